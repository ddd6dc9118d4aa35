#pragma once
// The headsweep subcommands. Each registers its flags on the CLI11 app and returns the exit status.
#include <CLI/CLI.hpp>

namespace hs::cli {

// Registers a subcommand; the callback it installs sets *status when the command ran.
void add_run_command(CLI::App& app, int* status);
void add_validate_command(CLI::App& app, int* status);
void add_info_command(CLI::App& app, int* status);
void add_data_command(CLI::App& app, int* status);
void add_env_command(CLI::App& app, int* status);
void add_merge_command(CLI::App& app, int* status);

}  // namespace hs::cli
