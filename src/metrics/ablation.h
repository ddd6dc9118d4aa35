#pragma once
// Ablation importance: how much the score drops when a head alone is removed, read off a sweep that
// holds single-head masks; and its rank agreement with another importance (e.g. the gradient one).
#include <cstdint>
#include <vector>

namespace hs::metrics {

// (L·H) row-major: baseline − score of the mask that removes exactly head (l, h) and nothing else;
// NaN for heads no such mask covers. masks: (N, L, H) with 1 = kept; scores (N), one metric.
std::vector<double> ablation_importance(const std::vector<uint8_t>& masks, const std::vector<double>& scores, int L,
                                        int H);

// Spearman correlation over the heads where both are finite (NaN with fewer than 3 such heads).
double rank_agreement(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace hs::metrics
