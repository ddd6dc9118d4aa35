#pragma once
// Writes a results file (schema: docs/hdf5-schema.md). The layout is created in full up front, in a
// temporary file that is renamed into place, so output.path is never a half-built file. After that
// no HDF5 metadata changes: every chunk a run will write is allocated at creation, and each mask's
// scores and predictions are plain overwrites of raw data, flushed (and fsync'ed) before its
// masks_done flag is set and flushed in turn. A run killed at any moment (kill -9 included) leaves a
// file that opens, whose rows with masks_done = 1 are complete; `headsweep run` resumes it.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hs::io {

inline constexpr int64_t kResultsSchemaVersion = 1;

// Per-head importance known when the file is created (gradient importance, computed before the sweep).
struct HeadImportance {
  std::string method;          // "michel", "bertology": the dataset /importance/<method>
  std::vector<double> scores;  // (L, H) row-major, normalised as the method does
  std::vector<double> raw;     // (L, H) before normalisation
  std::string split;           // the data it was computed on
  int64_t examples = 0;
  int64_t tokens = 0;
  double mean_loss = 0;
  bool normalized = true;
};

// A per-head statistic, e.g. attention on [SEP]: /attention/<name>.
struct HeadStatistic {
  std::string name;
  std::string description;
  std::vector<double> values;  // (L, H) row-major
};

// A pruning curve: which mask each step is (its masks are rows of /masks like any other).
struct PruningRecord {
  std::string name;                  // /pruning/<name>: "importance", "random-0", "ablation"
  std::vector<double> fractions;     // (S) heads removed / (L·H)
  std::vector<int64_t> heads_pruned; // (S)
  std::vector<int64_t> mask_index;   // (S) rows of /masks
};

// A curve's scores, once every mask is scored.
struct PruningScores {
  std::vector<double> score;    // (S) primary metric
  std::vector<double> p_value;  // (S) bootstrap p-value of the change from the baseline (NaN: none)
  double within_tolerance = 0;  // largest fraction with every step's drop <= tolerance
  double not_significant = 0;   // largest fraction with no step's drop significant at alpha (NaN: no bootstrap)
};

// What the root attributes say about the run.
struct ResultsHeader {
  std::string tool_version;
  std::string config_yaml;  // dump_config() of the plan
  std::string model_path;
  std::string model_id;      // e.g. config.json's _name_or_path, or the folder name
  std::string model_sha256;  // of model.safetensors, lowercase hex
  std::string inputs_sha256;  // of the tokenized examples and the task head (sweep/inputs.h); "" unknown
  std::string task;
  std::string split;
  std::string strategy;
  // What ran the sweep: the GPU's product name or the CPU's model (model::device_name); in a merged
  // file each shard's, distinct ones joined by "; ". Where it ran (cpu or cuda) is the config's
  // runtime.device. "" in files written before the attribute existed.
  std::string device_name;
  int n_layers = 0;
  int n_heads = 0;
  std::vector<std::string> metrics;  // primary first
  // A shard's file (docs/cluster.md) scores shard shard_index of shard_count; shard_count 0 = not
  // a shard. Written as root attributes only for shards.
  int shard_index = 0;
  int shard_count = 0;
  // A merged file: the files it was merged from (root attribute merged_from, merged files only).
  std::vector<std::string> merged_from;
  // The paired bootstrap (stats.* of the config). With resamples > 0 the file has a /bootstrap group
  // with these as attributes and three datasets per metric, NaN until write_bootstrap.
  int64_t bootstrap_resamples = 0;
  double bootstrap_confidence = 0.95;
  int64_t bootstrap_seed = 0;
  // /importance: gradient importances written at creation, and with `ablation` an (L, H) dataset of
  // single-head score drops (plus each gradient method's rank agreement with it), NaN until
  // write_ablation.
  std::vector<HeadImportance> importance;
  bool ablation = false;
  // /attention: per-head attention statistics under the full model, written at creation.
  std::vector<HeadStatistic> attention;
  int64_t attention_tokens = 0;  // real query tokens they average over
  // /pruning: the curves, their scores NaN until write_pruning.
  std::vector<PruningRecord> pruning;
  std::string pruning_schedule;
  double pruning_tolerance = 0.01;
  double pruning_alpha = 0.05;
};

// One metric's bootstrap results over all masks.
struct BootstrapColumns {
  std::vector<double> ci;        // (N, 2) interval of the metric, row-major
  std::vector<double> delta_ci;  // (N, 2) interval of metric(mask) − metric(baseline)
  std::vector<double> p_value;   // (N) two-sided p-value of "no difference from the baseline"
};

// True when another process holds `path` open for writing: HDF5's lock on it refuses a reader (a
// run in progress). False when it is free, missing, or written with locking off
// (HDF5_USE_FILE_LOCKING=FALSE in the writer's environment).
bool held_by_writer(const std::string& path);
// InputError "PATH is open for writing in another process ...": the one refusal of a results file
// that a run still writes, whether it was to be resumed or replaced.
[[noreturn]] void refuse_held_by_writer(const std::string& path);
// InputError "PATH is not a regular file (a device, a pipe or a socket), so it cannot hold results"
// when PATH exists and is neither a regular file nor a folder (folders have messages of their own):
// /dev/null or a pipe could neither be resumed nor replaced without harm. Run, the writer and merge
// all check it before they open anything.
void refuse_special_file(const std::string& path);

// Creates the folders above the results file PATH that do not exist yet; InputError naming PATH when
// one of them is a file, or cannot be created.
void create_parent_folders(const std::string& path);

struct WriterOptions {
  bool overwrite = false;  // replace an existing file; otherwise an existing file is an InputError
  // The mask rows this run will write. Their /predictions chunks are allocated when the file is
  // created, so that writing them later changes no HDF5 metadata; rows not listed stay unallocated
  // (they read as NaN and take no space). Empty optional: every row.
  std::optional<std::vector<int64_t>> rows_to_write;
  // How masks_done reaches the disk. A mask's row is written at once; its flag waits for a commit:
  // flush and fsync (every pending row), set the pending flags, flush and fsync again. A commit
  // runs when a mask arrives commit_interval_s or more after the last one (0: after every mask),
  // at finish(), and when the writer is destroyed unfinished. A kill loses at most the masks of
  // the last commit_interval_s. Without durable, nothing is flushed before finish(), for writers
  // that publish the file only once it is complete (merge).
  double commit_interval_s = 0;
  bool durable = true;
};

class ResultsWriter {
 public:
  // Creates `path` (and missing parent folders) with every dataset in place: masks and names
  // written, scores and predictions NaN, masks_done 0, complete 0.
  //   masks:      (N, L, H) row-major, 1 = head kept; N = mask_names.size()
  //   labels:     (B) gold label per example (class index, or the regression score)
  //   rows:       (B) the example's row in the split's TSV
  // Throws InputError when `path` exists and !overwrite, or cannot be created; std::invalid_argument
  // when the shapes disagree.
  static ResultsWriter create(const std::string& path, const ResultsHeader& header,
                              const std::vector<uint8_t>& masks,
                              const std::vector<std::string>& mask_names,
                              const std::vector<double>& labels, const std::vector<int64_t>& rows,
                              bool overwrite);
  static ResultsWriter create(const std::string& path, const ResultsHeader& header,
                              const std::vector<uint8_t>& masks,
                              const std::vector<std::string>& mask_names,
                              const std::vector<double>& labels, const std::vector<int64_t>& rows,
                              const WriterOptions& options);

  // Opens an existing results file for writing more masks into it (resuming a run). The caller has
  // checked that the file belongs to the same sweep (io/results_identity.h). Throws InputError when
  // the file cannot be opened for writing (e.g. another process holds it).
  static ResultsWriter reopen(const std::string& path, double commit_interval_s = 0);

  ResultsWriter(ResultsWriter&&) noexcept;
  ResultsWriter& operator=(ResultsWriter&&) noexcept;
  ~ResultsWriter();  // closes the file; complete stays 0 unless finish() ran

  // Stores mask n's scores (one per header metric, exactly) and predictions (B), and sets
  // masks_done[n] = 1 at the next commit (WriterOptions::commit_interval_s).
  void write_mask(int64_t n, const std::map<std::string, double>& scores,
                  const std::vector<float>& predictions);
  // Stores one metric's bootstrap results (the file must have been created with
  // bootstrap_resamples > 0). Raw overwrites of datasets that exist since creation.
  void write_bootstrap(const std::string& metric, const BootstrapColumns& columns);
  // Stores the ablation importance (L·H, baseline − score without the head; NaN where the sweep has
  // no such mask) and each gradient method's Spearman agreement with it (header.ablation must be set).
  void write_ablation(const std::vector<double>& drops, const std::map<std::string, double>& agreement);
  // Fills one pruning curve's scores (header.pruning names it).
  void write_pruning(const std::string& name, const PruningScores& scores);
  // Commits every row written so far now (a no-op when none is pending), instead of with the next
  // mask: after a burst of masks, and before long work that follows the last one.
  void commit();
  // Sets complete = 1 (the run ended normally), flushes and fsyncs. Masks never written stay NaN
  // with masks_done 0: a shard need not score every row.
  void finish();

  const std::string& path() const;
  int64_t n_masks() const;
  int64_t n_examples() const;
  bool mask_done(int64_t n) const;  // written (committed or pending)

  struct Impl;  // defined in the .cpp; named here so its helpers can take it

 private:
  explicit ResultsWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hs::io
