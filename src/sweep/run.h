#pragma once
// One experiment run: plan in, results file out. Everything the plan names is opened and checked
// before the first forward pass, so a bad input fails fast and leaves no results file behind.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <c10/core/Device.h>

#include "io/plan.h"
#include "io/results.h"
#include "model/model_config.h"
#include "sweep/shard.h"

namespace hs::sweep {

struct RunSummary {
  std::string output_path;
  std::string model_id;
  std::string task;
  std::string split;
  std::string strategy;
  std::string head;
  int64_t n_examples = 0;
  int64_t n_masks = 0;
  int threads = 0;
  std::vector<std::string> metrics;                       // primary first
  std::vector<std::string> mask_names;                    // (N)
  std::vector<std::map<std::string, double>> scores;      // (N); empty for masks not in the file
  double seconds = 0;
  Shard shard;                 // count 1: the whole sweep
  int64_t n_owned = 0;         // masks this file is for: N, or the shard's
  int64_t n_scored = 0;        // masks scored by this run
  int64_t n_resumed = 0;       // masks already in the file when the run started
  bool already_complete = false;  // the file was complete: nothing was run
  // The primary metric's bootstrap intervals, when this run computed them (stats.bootstrap > 0 and
  // the whole sweep in one file).
  std::optional<io::BootstrapColumns> bootstrap;
  double confidence = 0;
  std::vector<io::HeadImportance> importance;  // gradient importances of this sweep's file
  std::vector<io::HeadStatistic> attention;    // attention statistics of this sweep's file
  // With single-head masks: each head's ablation drop (L·H, NaN where no mask removes it alone) and
  // each gradient method's Spearman agreement with it; empty otherwise.
  std::vector<double> ablation;
  std::map<std::string, double> agreement;
  // Pruning curves and their scores (whole sweep in one file only).
  std::vector<std::pair<io::PruningRecord, io::PruningScores>> pruning;
  double pruning_tolerance = 0, pruning_alpha = 0;
  int n_layers = 0, n_heads = 0;
};

struct RunOptions {
  Shard shard;         // which part of the mask set to score (count 1: all of it)
  std::string output;  // write here instead of output.path (or its shard name); "" = default
};

// The checks of a run that need neither the model nor the data: the device exists here and can run
// the kernels, runtime.dtype and runtime.attention fit it, the pruning options fit each other.
// Returns the device; throws InputError "FILE:LINE:COL: KEY: message".
c10::Device check_run_options(const io::Plan& plan);

// The same checks for `headsweep validate`, of the config rather than of this machine, and those of
// the run's checks that the model folder's config.json decides (the model's shape against
// sweep.layer, the masks of sweep.path, task.max_seq_len and the CUDA kernels' limits). runtime.dtype
// and runtime.attention are checked against the kind of device runtime.device names (`auto`: what it
// resolves to here), so a config for GPU nodes validates on a login node without one. Whether this
// machine has that device is not an error but a note returned, one line each; so is a
// pruning.ablation_from file that does not exist yet (an earlier job of the same study may write it;
// one that exists is checked).
std::vector<std::string> check_config_options(const io::Plan& plan);

// The checks of a run's options against the model's shape, made before any work: on CUDA every
// layer runs the mixing kernel, which takes C ≤ 4096 and H ≤ 64 (runtime.device), and
// runtime.attention `kernel` needs a head dim the attention kernel is compiled for. config is
// model_path's config.json. Throws InputError "FILE:LINE:COL: KEY: message".
void check_model_options(const io::Plan& plan, const c10::Device& device, const model::BertConfig& config,
                         const std::string& model_path);

// Runs the plan into its results file. An existing file at the output path is resumed when it was
// made by the same sweep (io/results_identity.h) and is incomplete, left alone when it is complete,
// replaced when output.overwrite is true, and refused (InputError saying what differs) otherwise.
RunSummary run_plan(const io::Plan& plan, const RunOptions& options = {});

// The one-line error for a sweep that ran out of GPU memory: what failed (the first sentence of
// libtorch's message, `what`) and the two settings that size the sweep's memory.
std::string out_of_device_memory(const std::string& device, int64_t token_budget, int streams,
                                 const std::string& what);

// The file a run writes: options.output, else output.path (with ".shard-i-of-n" for a shard).
std::string output_path(const io::Plan& plan, const RunOptions& options);

// Gradient importances' top heads and their agreement with the ablation drops, when there are any.
std::string format_importance(const std::vector<io::HeadImportance>& importance,
                              const std::map<std::string, double>& agreement, const std::vector<double>& ablation,
                              int n_heads, int top_k = 5);

// The heads that attend most to [CLS], [SEP], punctuation, the previous and the next token.
std::string format_attention(const std::vector<io::HeadStatistic>& attention, int n_heads, int top_k = 3);

// Each pruning curve's scores by fraction and its two summaries.
std::string format_pruning(const std::vector<std::pair<io::PruningRecord, io::PruningScores>>& curves,
                           const std::string& metric, double tolerance, double alpha);

// The human-readable report: baseline scores and the masks that hurt the primary metric most.
std::string format_summary(const RunSummary& s, int top_k = 10);

// The baseline line and the top_k masks that hurt the primary metric most, from the masks that have
// scores (an empty map: not scored in this file). With the primary metric's bootstrap intervals,
// each line also shows the interval of the change from the baseline and its p-value. Masks whose
// primary metric is NaN are named on a line of their own and left out of the ranking.
std::string format_ranking(const std::vector<std::string>& metrics, const std::vector<std::string>& mask_names,
                           const std::vector<std::map<std::string, double>>& scores, int top_k = 10,
                           const io::BootstrapColumns* intervals = nullptr, double confidence = 0);

}  // namespace hs::sweep
