#pragma once
// One experiment run: plan in, results file out. Everything the plan names is opened and checked
// before the first forward pass, so a bad input fails fast and leaves no results file behind.
#include <string>
#include <vector>

#include <c10/core/Device.h>

#include "io/plan.h"
#include "io/results.h"
#include "model/model_config.h"
#include "sweep/report.h"
#include "sweep/shard.h"

namespace hs::sweep {

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

}  // namespace hs::sweep
