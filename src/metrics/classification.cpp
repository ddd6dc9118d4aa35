#include "metrics/classification.h"

#include <cmath>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "metrics/checks.h"

namespace hs::metrics {

BinaryCounts binary_counts(const std::vector<double>& predictions, const std::vector<double>& gold) {
  detail::check_pair("f1", predictions, gold);
  BinaryCounts c;
  for (size_t i = 0; i < predictions.size(); ++i) {
    const long long p = detail::class_index("f1", predictions[i], i);
    const long long g = detail::class_index("f1", gold[i], i);
    if (p > 1 || g > 1) {
      throw std::invalid_argument(fmt::format("f1: binary metric got class {} at index {}",
                                              p > 1 ? p : g, i));
    }
    if (p == 1) {
      ++(g == 1 ? c.tp : c.fp);
    } else {
      ++(g == 1 ? c.fn : c.tn);
    }
  }
  return c;
}

double accuracy(const std::vector<double>& predictions, const std::vector<double>& gold) {
  detail::check_pair("accuracy", predictions, gold);
  int64_t correct = 0;
  for (size_t i = 0; i < predictions.size(); ++i) {
    const long long p = detail::class_index("accuracy", predictions[i], i);
    const long long g = detail::class_index("accuracy", gold[i], i);
    if (p == g) ++correct;
  }
  return static_cast<double>(correct) / static_cast<double>(predictions.size());
}

double f1(const std::vector<double>& predictions, const std::vector<double>& gold) {
  const BinaryCounts c = binary_counts(predictions, gold);
  const int64_t denominator = 2 * c.tp + c.fp + c.fn;
  if (denominator == 0) return 0.0;
  return static_cast<double>(2 * c.tp) / static_cast<double>(denominator);
}

double mcc(const std::vector<double>& predictions, const std::vector<double>& gold) {
  detail::check_pair("mcc", predictions, gold);
  // Per class: how often it is predicted and how often it is the gold label.
  std::map<long long, std::pair<int64_t, int64_t>> per_class;
  int64_t correct = 0;
  for (size_t i = 0; i < predictions.size(); ++i) {
    const long long p = detail::class_index("mcc", predictions[i], i);
    const long long g = detail::class_index("mcc", gold[i], i);
    ++per_class[p].first;
    ++per_class[g].second;
    if (p == g) ++correct;
  }
  const int64_t n = static_cast<int64_t>(predictions.size());
  // Exact integer covariances (n² fits in int64 for any realistic n); only the last step rounds.
  int64_t sum_tp = 0;
  int64_t sum_pp = 0;
  int64_t sum_tt = 0;
  for (const auto& [cls, counts] : per_class) {
    sum_tp += counts.first * counts.second;
    sum_pp += counts.first * counts.first;
    sum_tt += counts.second * counts.second;
  }
  const int64_t cov_ytyp = correct * n - sum_tp;
  const int64_t cov_ypyp = n * n - sum_pp;
  const int64_t cov_ytyt = n * n - sum_tt;
  if (cov_ypyp == 0 || cov_ytyt == 0) return 0.0;
  return static_cast<double>(cov_ytyp) /
         std::sqrt(static_cast<double>(cov_ytyt) * static_cast<double>(cov_ypyp));
}

}  // namespace hs::metrics
