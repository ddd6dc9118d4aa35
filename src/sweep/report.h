#pragma once
// What a run reports on the terminal: its summary (RunSummary, filled by run_plan) and the text
// made from it and from merged files: the ranking of masks, the top heads of each importance and
// attention statistic, and the pruning curves.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "io/results.h"
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
