// headsweep: attention-head ablation sweeps for BERT-style encoders.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <hdf5.h>

#include "cli/commands.h"
#include "model/heap.h"
#include "util/error.h"

int main(int argc, char** argv) {
  // HDF5 closes files still open when the process exits; a file whose close already failed (a full
  // disk) then crashes HDF5 1.10 (a segfault after the error message). Every file headsweep opens is
  // closed by its owner, so the exit handler has nothing to do.
  H5dont_atexit();
  CLI::App app{"headsweep: mask attention heads or layers of a BERT-style encoder, re-score it on GLUE data, "
               "and write the results to HDF5."};
  hs::model::bound_heap_retention();
  app.set_version_flag("--version", HEADSWEEP_VERSION);
  app.require_subcommand(1);
  int status = 0;
  hs::cli::add_run_command(app, &status);
  hs::cli::add_validate_command(app, &status);
  hs::cli::add_info_command(app, &status);
  hs::cli::add_data_command(app, &status);
  hs::cli::add_env_command(app, &status);
  hs::cli::add_merge_command(app, &status);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    // A usage error is bad input like any other: one line, status 2.
    std::string what = e.what();
    if (argc > 1 && argv[1][0] != '-' && app.get_subcommands().empty()) {
      std::vector<std::string> names;
      for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) names.push_back(sub->get_name());
      bool known = false;
      for (const std::string& n : names) known = known || n == argv[1];
      if (!known) what = fmt::format("unknown command '{}' (commands: {})", argv[1], fmt::join(names, ", "));
    }
    std::fprintf(stderr, "headsweep: error: %s; see headsweep --help\n", hs::one_line(what).c_str());
    return 2;
  } catch (const hs::InputError& e) {
    std::fprintf(stderr, "headsweep: error: %s\n", hs::one_line(e.what()).c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "headsweep: internal error: %s\n", hs::one_line(e.what()).c_str());
    return 1;
  }
  return status;
}
