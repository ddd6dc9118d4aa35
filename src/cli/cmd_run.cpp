#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/plan_context.h"
#include "cli/runtime.h"
#include "model/threads.h"
#include "sweep/run.h"
#include "sweep/stop.h"
#include "util/error.h"

namespace hs::cli {

void add_run_command(CLI::App& app, int* status) {
  auto* cmd = app.add_subcommand(
      "run", "Run the sweep a config describes and write its HDF5 results file (run again: resumes an interrupted run)");
  struct Args {
    std::string config;
    std::vector<std::string> sets;
    bool dump = false;
    std::string shard;
    std::string output;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("config", a->config, "experiment config (YAML)")->required();
  cmd->add_option("--set", a->sets, "override an option, e.g. --set task.limit=100 (repeatable)");
  cmd->add_flag("--dump-config", a->dump, "print the resolved config and exit without running");
  CLI::Option* shard = cmd->add_option("--shard", a->shard,
                  "score only shard INDEX/COUNT of the masks (INDEX from 0), into output.path with "
                  ".shard-INDEX-of-COUNT before the extension; default: from SLURM_ARRAY_TASK_ID and "
                  "SLURM_ARRAY_TASK_COUNT when set (docs/cluster.md); 0/1 = the whole sweep");
  CLI::Option* output = cmd->add_option("--output", a->output,
                                        "write the results here instead of output.path (or its shard name)");
  cmd->callback([a, status, shard, output] {
    // Given but empty (an unset shell variable, say) is a mistake, not "use the default".
    if (output->count() > 0 && a->output.empty()) throw InputError("--output: empty path");
    const io::Plan plan = io::load_plan(a->config, a->sets, plan_context());
    if (a->dump) {
      fmt::print("{}", io::dump_config(plan));
      *status = 0;
      return;
    }
    sweep::RunOptions options;
    if (shard->count() > 0) {
      options.shard = sweep::parse_shard(a->shard);
    } else if (auto env = sweep::shard_from_env([](const char* name) { return std::getenv(name); })) {
      options.shard = *env;
    }
    options.output = a->output;
    model::set_compute_threads(plan.runtime.threads);
    const BlasInfo blas = blas_info();
    if (blas.vendor.rfind("reference BLAS", 0) == 0) {
      fmt::print(stderr, "headsweep: warning: GEMMs run on {} ({}); expect a run 20-50x slower\n", blas.vendor,
                 blas.library);
    }
    sweep::stop_on_signals();
    try {
      const sweep::RunSummary summary = sweep::run_plan(plan, options);
      fmt::print("{}", sweep::format_summary(summary));
      *status = 0;
    } catch (const sweep::Stopped& e) {
      // The shell's convention for a process ended by a signal, so that scripts and SLURM see that it
      // did not complete; the results file says complete = 0.
      const std::string out = sweep::output_path(plan, options);
      std::error_code ec;
      if (std::filesystem::exists(out, ec)) {
        fmt::print(stderr, "headsweep: {}: the masks scored so far are kept in {}; run the same command again to "
                   "resume\n", e.what(), out);
      } else if (std::filesystem::exists(out + ".importance", ec)) {
        fmt::print(stderr, "headsweep: {} before the results file was made: the importances computed so far are kept "
                   "in {}.importance; run the same command again to resume\n", e.what(), out);
      } else {
        fmt::print(stderr, "headsweep: {} before the results file was made\n", e.what());
      }
      *status = 128 + e.signal();
    }
  });
}

}  // namespace hs::cli
