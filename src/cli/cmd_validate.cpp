#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/plan_context.h"
#include "sweep/run.h"

namespace hs::cli {

void add_validate_command(CLI::App& app, int* status) {
  auto* cmd = app.add_subcommand("validate", "Check a config file without running it (errors as FILE:LINE:COL)");
  struct Args {
    std::string config;
    std::vector<std::string> sets;
    bool dump = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("config", a->config, "experiment config (YAML)")->required();
  cmd->add_option("--set", a->sets, "override an option, e.g. --set task.limit=100 (repeatable)");
  cmd->add_flag("--dump-config", a->dump, "print the resolved config (defaults filled in, ${VAR} expanded)");
  cmd->callback([a, status] {
    const io::Plan plan = io::load_plan(a->config, a->sets, plan_context());
    for (const std::string& note : sweep::check_config_options(plan)) fmt::print(stderr, "headsweep: {}\n", note);
    if (a->dump) {
      fmt::print("{}", io::dump_config(plan));
    } else {
      fmt::print("{}: ok\n", a->config);
    }
    *status = 0;
  });
}

}  // namespace hs::cli
