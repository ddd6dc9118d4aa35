#pragma once
// Paired bootstrap over examples. Every mask is scored on the same resamples of the examples, so
// the difference between a mask and the baseline is measured pair by pair: the examples both got
// right or wrong cancel, and the interval of the difference is far narrower than what two separate
// intervals would suggest. Percentile intervals; a two-sided bootstrap p-value for "no
// difference". Resamples come from a seeded std::mt19937_64, whose output the C++ standard fixes,
// mapped to indices by exact integer arithmetic, so a seed gives the same resamples on every
// platform and compiler.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace hs::metrics {

// Example indices of each resample: R resamples of B indices drawn uniformly with replacement.
class Resamples {
 public:
  Resamples(int64_t n_examples, int64_t resamples, uint64_t seed);
  int64_t size() const { return R_; }
  int64_t n_examples() const { return B_; }
  const int64_t* indices(int64_t r) const { return idx_.data() + r * B_; }  // (B)

 private:
  int64_t B_, R_;
  std::vector<int64_t> idx_;  // (R, B)
};

// A uniform integer in [0, n) from 64-bit draws of `next` (Lemire's multiply-and-reject: exact, no
// modulo bias). Exposed for its test.
template <typename Next>
uint64_t uniform_below(uint64_t n, Next&& next) {
  const uint64_t threshold = (0 - n) % n;  // 2^64 mod n: draws below it would favour small results
  while (true) {
    const unsigned __int128 m = static_cast<unsigned __int128>(next()) * n;
    if (static_cast<uint64_t>(m) >= threshold) return static_cast<uint64_t>(m >> 64);
  }
}

// The metric on each resample (R): predictions and gold (B) indexed by the resample. A resample on
// which the metric is undefined (a correlation over constant values) gives NaN; every resample
// does where a prediction is not finite.
std::vector<double> resampled_scores(const std::string& metric, const std::vector<double>& predictions,
                                     const std::vector<double>& gold, const Resamples& resamples);

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Interval {
  double low = kNaN;
  double high = kNaN;
};

// The central `confidence` interval of `values` by percentiles (numpy's default linear
// interpolation: the q-quantile of sorted v is v[i] + f·(v[i+1] - v[i]) at i + f = q·(n - 1)).
// NaN values are left out; with none left the interval is NaN.
Interval percentile_interval(std::vector<double> values, double confidence);

// Two-sided bootstrap p-value of "the difference is 0" from resampled differences:
// 2·min(#{d ≤ 0} + 1, #{d ≥ 0} + 1) / (R + 1), at most 1. The +1 terms (Davison & Hinkley 1997)
// keep it above 0: R resamples cannot show a p-value below about 2 / R.
double bootstrap_p_value(const std::vector<double>& deltas);

struct PairedResult {
  Interval score;  // of the mask's metric
  Interval delta;  // of mask − baseline
  double p_value = kNaN;
};

// mask and baseline: one metric's resampled scores (R each) on the same Resamples.
PairedResult paired_bootstrap(const std::vector<double>& mask, const std::vector<double>& baseline, double confidence);

}  // namespace hs::metrics
