#include <fmt/format.h>

#include "cli/commands.h"
#include "sweep/report.h"
#include "sweep/shard.h"

namespace hs::cli {

void add_merge_command(CLI::App& app, int* status) {
  auto* cmd = app.add_subcommand(
      "merge", "Join the results files of a sharded sweep into the file an unsharded run would have written");
  struct Args {
    std::string out;
    std::vector<std::string> inputs;
    bool overwrite = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("out", a->out, "the merged results file to write")->required();
  cmd->add_option("shards", a->inputs, "the shards' results files (every mask scored by exactly one)")->required();
  cmd->add_flag("--overwrite", a->overwrite, "replace OUT when it exists");
  cmd->callback([a, status] {
    const sweep::MergeResult r = sweep::merge_results(a->out, a->inputs, a->overwrite);
    fmt::print("merged {} files into {}: {} masks ({}), {} examples, each mask from exactly one file\n",
               a->inputs.size(), r.path, r.mask_names.size(), r.header.strategy, r.n_examples);
    fmt::print("{}", sweep::format_ranking(r.header.metrics, r.mask_names, r.scores, 10,
                                           r.bootstrap ? &*r.bootstrap : nullptr, r.header.bootstrap_confidence));
    fmt::print("{}", sweep::format_importance(r.header.importance, r.agreement, r.ablation, r.header.n_heads));
    fmt::print("{}", sweep::format_attention(r.header.attention, r.header.n_heads));
    if (!r.pruning.empty()) {
      fmt::print("{}", sweep::format_pruning(r.pruning, r.header.metrics.front(), r.header.pruning_tolerance,
                                             r.header.pruning_alpha));
    }
    *status = 0;
  });
}

}  // namespace hs::cli
