#pragma once
// The experiment plan: one struct per YAML config section. Defaults, types, ranges and help text
// live in the option table (io/options.cpp), never here, so that parsing, validation, --dump-config
// and docs/config.md cannot disagree.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "util/error.h"

namespace hs::io {

struct ModelOptions {
  std::string path;
  std::string head;     // auto | classification | regression | similarity
  std::string pooling;  // auto | mean | cls
  std::vector<std::string> labels;  // {"auto"}: config.json's id2label; else the task label of each output
  bool operator==(const ModelOptions& o) const;
};

struct TaskOptions {
  std::string name, data_dir, split;
  int max_seq_len = 0;
  int64_t limit = 0;  // 0 = all rows
  std::string sample;  // first | random: which `limit` rows
  bool operator==(const TaskOptions& o) const;
};

// Strategy parameters are added here and in the table; a parameter that only some strategies read
// is declared with used_when("sweep.strategy", {...}) so that setting it for another strategy is an
// error. Parameters of strategies not in `strategies` keep their zero values. masks::make_masks reads
// this struct; masks/strategies.h says what each strategy emits.
struct SweepOptions {
  // sweep.strategy: one name, or several whose masks are pooled (each distinct mask once).
  std::vector<std::string> strategies;
  std::vector<double> sparsities;  // random: fractions of the L·H heads removed, each in (0, 1)
  int64_t samples = 0;             // random: masks per sparsity
  int64_t seed = 0;                // random
  int min_heads_per_layer = 0;     // random: heads every layer keeps
  int layer = 0;                   // exhaustive-layer
  std::string path;                // file: HDF5, .npy or text
  std::string dataset;             // file: the HDF5 dataset holding the masks
  // `strategies` joined by "+" ("single-head", "single-head+layer"), set by load_plan: how results
  // files and summaries name the sweep. Derived, so operator== ignores it.
  std::string strategy;
  bool operator==(const SweepOptions& o) const;
};

struct RuntimeOptions {
  std::string device;  // cpu | cuda | cuda:N | auto
  std::string dtype;   // fp32 | bf16 | fp16: the sweep's precision on CUDA
  std::string attention;  // auto | fused | kernel: the sweep's attention on CUDA
  int threads = 0;     // 0 = all cores
  int streams = 0;     // CUDA streams, each fed by its own host thread
  int64_t token_budget = 0;
  std::string executor;  // trie | naive
  int64_t seed = 0;
  std::string progress;  // auto | bar | lines | none
  bool operator==(const RuntimeOptions& o) const;
};

// Gradient head importance, computed before the sweep (sweep/importance.h).
struct ImportanceOptions {
  std::string method;  // none | michel | bertology
  std::string split;   // auto (the method's published choice) or a split of the task
  int64_t limit = 0;   // 0 = every example of the split
  std::string sample;  // first | random: which `limit` examples
  int64_t batch_size = 0;
  bool normalize = false;
  bool operator==(const ImportanceOptions& o) const;
};

// Iterative pruning curves (sweep/pruning.h), generated before the sweep and scored with it.
struct PruningOptions {
  std::string schedule;             // none | percent | count
  std::vector<double> fractions;    // percent: of all heads
  int64_t count = 0;                // count: heads per step; 0 = max(1, round(0.1·L·H))
  bool recompute = false;           // percent: gradient importance again at every step
  int min_heads_per_layer = 0;
  std::vector<std::string> orders;  // importance | random | ablation
  int64_t random_orders = 0;        // how many random orders (seeds runtime.seed + i)
  std::string ablation_from;        // results file with single-head scores, for the ablation order
  double tolerance = 0;             // summary: largest fraction whose drop stays within this
  double alpha = 0;                 // summary: largest fraction whose drop is not significant
  bool operator==(const PruningOptions& o) const;
};

struct AttentionOptions {
  bool statistics = false;
  bool operator==(const AttentionOptions& o) const;
};

struct StatsOptions {
  int64_t bootstrap = 0;    // resamples of the paired bootstrap; 0 = no intervals
  double confidence = 0;    // of the intervals, e.g. 0.95
  bool operator==(const StatsOptions& o) const;
};

struct OutputOptions {
  std::string path;
  bool overwrite = false;
  bool operator==(const OutputOptions& o) const;
};

// Where each option's value came from ("FILE:LINE:COL", "--set KEY=VALUE", or its section's line
// for a default), so that a problem found only once the model, the data or the device is known
// still points into the config.
class OptionWhere {
 public:
  void set(const std::string& key, std::string where) { where_[key] = std::move(where); }
  // "WHERE: KEY", or "KEY" for a plan built in code.
  std::string operator()(const std::string& key) const {
    const auto it = where_.find(key);
    return it == where_.end() ? key : it->second + ": " + key;
  }
  // Throws InputError "WHERE: KEY: message".
  template <typename... Args>
  [[noreturn]] void fail(const std::string& key, fmt::format_string<Args...> f, Args&&... args) const {
    throw InputError((*this)(key) + ": " + fmt::format(f, std::forward<Args>(args)...));
  }

 private:
  std::map<std::string, std::string> where_;
};

struct Plan {
  ModelOptions model;
  TaskOptions task;
  SweepOptions sweep;
  RuntimeOptions runtime;
  ImportanceOptions importance;
  AttentionOptions attention;
  PruningOptions pruning;
  StatsOptions stats;
  OutputOptions output;
  std::string source;  // the config file (or display name) the plan was read from
  OptionWhere where;   // derived from the text it was read from: operator== ignores it
  bool operator==(const Plan& o) const;
  bool operator!=(const Plan& o) const { return !(*this == o); }
};

// What the plan loader needs to know from the rest of the program.
struct PlanContext {
  // Names listed in the error for an unknown task.name, and the membership test when
  // is_known_task is empty. With both empty, task.name is not checked.
  std::vector<std::string> task_names;
  // Accepts aliases the data module understands (e.g. "STS-B" for "stsb").
  std::function<bool(const std::string&)> is_known_task;
  // Why `split` is not a split of task `task` ("" when it is); task.split and importance.split are
  // not checked when empty.
  std::function<std::string(const std::string& task, const std::string& split)> split_problem;
  // Check the file system before any work: model.path and task.data_dir are folders, sweep.path
  // (when a strategy reads it) is a file, and output.path is not a folder (an existing results
  // file is resumed or refused by the run, not here). Off for configs meant for another machine
  // and for tests.
  bool check_paths = true;
};

// Reads, expands and validates a config file, then applies `overrides` ("section.key=value", the
// --set flags). Every problem is an hs::InputError "FILE:LINE:COL: section.key: message" (or
// "--set section.key=value: ..."). What depends on the model (sweep.layer below L, the shape of
// the masks in sweep.path) is checked by masks::make_masks once L and H are known.
Plan load_plan(const std::string& path, const std::vector<std::string>& overrides,
               const PlanContext& ctx);
Plan load_plan_text(const std::string& yaml_text, const std::string& display_name,
                    const std::vector<std::string>& overrides, const PlanContext& ctx);

// Refuses an output path (output.path, or `output` when given: --output, a shard's file) that is the
// same file as one the run reads (sweep.path, pruning.ablation_from): creating or replacing it would
// destroy the run's own input. Called by load_plan (with check_paths) and by the run.
void check_output_is_not_read(const Plan& plan, const std::string& output = "");

// The resolved config as YAML: every option, defaults included, environment variables expanded.
// Stored in the results file; load_plan_text(dump_config(p), p.source, {}, ctx) == p.
std::string dump_config(const Plan& plan);

}  // namespace hs::io
