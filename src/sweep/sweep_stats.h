#pragma once
// What is computed once every mask of a sweep is scored (at the end of an unsharded run, and in
// `headsweep merge`): bootstrap intervals (stats.* of the config) of every metric and mask, paired
// with the baseline on the same resamples (metrics/bootstrap.h); the ablation importance of the
// heads that single-head masks remove, and its rank agreement with the gradient importances.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <string>
#include <vector>

#include "io/results.h"

namespace hs::sweep {

// Index of the all-heads-kept mask in masks (N, L, H), or -1.
int64_t baseline_index(const std::vector<uint8_t>& masks, int L, int H);

// predictions: N rows of B (every mask scored); gold (B). Uses header.metrics and
// header.bootstrap_*; resamples are shared by every mask and metric. Mask rows run in parallel.
std::vector<io::BootstrapColumns> bootstrap_intervals(const io::ResultsHeader& header,
                                                      const std::vector<uint8_t>& masks,
                                                      const std::vector<std::vector<float>>& predictions,
                                                      const std::vector<double>& gold);

// Whether some mask removes exactly one head.
bool has_single_head_masks(const std::vector<uint8_t>& masks, int L, int H);

struct AblationSummary {
  std::vector<double> drops;                 // (L·H) baseline − score without the head; NaN: no such mask
  std::map<std::string, double> agreement;  // gradient method -> Spearman with drops
};
// primary_scores (N): the primary metric of every mask; header.importance: the gradient importances.
AblationSummary ablation_summary(const io::ResultsHeader& header, const std::vector<uint8_t>& masks,
                                 const std::vector<double>& primary_scores);

// One pruning curve's scores from every mask's primary score (N) and, when the bootstrap ran, its
// p-values (N, else empty). A step counts as "within tolerance" when baseline − score <= tolerance,
// and as "not significant" when its p-value >= alpha or the score did not drop; each summary is the
// largest fraction up to which every step passes.
io::PruningScores pruning_scores(const io::PruningRecord& curve, const std::vector<double>& primary_scores,
                                 const std::vector<double>& p_values, double tolerance, double alpha);

// One metric's score of every mask (N), NaN where a mask has none.
std::vector<double> metric_scores(const std::vector<std::map<std::string, double>>& scores, const std::string& metric);

// Everything above that the header asks for, computed once every mask is scored and written to
// `writer`: bootstrap intervals (header.bootstrap_resamples > 0; predictions: N rows of B, else
// unused), ablation drops and agreement (header.ablation), pruning curves (header.pruning).
struct SweepStats {
  std::optional<io::BootstrapColumns> bootstrap;  // the primary metric's
  AblationSummary ablation;                       // empty when header.ablation is false
  std::vector<std::pair<io::PruningRecord, io::PruningScores>> pruning;
};
// The same for a file whose analyses are written: `bootstrap` the primary metric's as the file holds
// it (nullopt without), the ablation and pruning scores recomputed from `scores` (N), which gives the
// values the file holds. For the summary of a run that finds its file complete.
SweepStats summary_stats(const io::ResultsHeader& header, const std::vector<uint8_t>& masks,
                         const std::vector<std::map<std::string, double>>& scores,
                         std::optional<io::BootstrapColumns> bootstrap);
SweepStats write_sweep_stats(io::ResultsWriter& writer, const io::ResultsHeader& header,
                             const std::vector<uint8_t>& masks, const std::vector<std::vector<float>>& predictions,
                             const std::vector<std::map<std::string, double>>& scores, const std::vector<double>& gold);

}  // namespace hs::sweep
