#pragma once
// Correlations between real-valued predictions and gold scores (STS-B), matching
// scipy.stats.pearsonr and scipy.stats.spearmanr. A constant input has no defined correlation:
// the result is NaN (scipy also returns NaN there, with a warning), never a made-up 0. Empty or
// mismatched inputs and non-finite values throw std::invalid_argument.
#include <vector>

namespace hs::metrics {

// Sample Pearson correlation, clamped to [-1, 1] against rounding.
double pearson(const std::vector<double>& predictions, const std::vector<double>& gold);

// Pearson correlation of the ranks; tied values share their average rank.
double spearman(const std::vector<double>& predictions, const std::vector<double>& gold);

// 1-based ranks, ties given the mean of the ranks they span ({10, 20, 20} → {1, 2.5, 2.5}).
std::vector<double> average_ranks(const std::vector<double>& values);

}  // namespace hs::metrics
