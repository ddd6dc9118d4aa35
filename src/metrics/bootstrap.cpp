#include "metrics/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include <fmt/format.h>

#include "metrics/score.h"

namespace hs::metrics {

Resamples::Resamples(int64_t n_examples, int64_t resamples, uint64_t seed) : B_(n_examples), R_(resamples) {
  if (B_ < 1 || R_ < 1) {
    throw std::invalid_argument(fmt::format("bootstrap: {} examples and {} resamples (both must be >= 1)", B_, R_));
  }
  std::mt19937_64 rng(seed);
  idx_.resize(static_cast<size_t>(B_ * R_));
  for (int64_t& i : idx_) i = static_cast<int64_t>(uniform_below(static_cast<uint64_t>(B_), rng));
}

std::vector<double> resampled_scores(const std::string& metric, const std::vector<double>& predictions,
                                     const std::vector<double>& gold, const Resamples& resamples) {
  const int64_t B = resamples.n_examples();
  if (static_cast<int64_t>(predictions.size()) != B || static_cast<int64_t>(gold.size()) != B) {
    throw std::invalid_argument(fmt::format("bootstrap: {} predictions and {} gold values for {} examples",
                                            predictions.size(), gold.size(), B));
  }
  std::vector<double> out(resamples.size());
  // An undefined score (score() above) stays undefined on every resample, including those that
  // happen to leave out the examples whose predictions are not finite.
  if (!std::all_of(predictions.begin(), predictions.end(), [](double v) { return std::isfinite(v); })) {
    std::fill(out.begin(), out.end(), kNaN);
    return out;
  }
  std::vector<double> p(B), g(B);
  const std::vector<std::string> names = {metric};
  for (int64_t r = 0; r < resamples.size(); ++r) {
    const int64_t* idx = resamples.indices(r);
    for (int64_t b = 0; b < B; ++b) {
      p[b] = predictions[idx[b]];
      g[b] = gold[idx[b]];
    }
    out[r] = score(names, p, g).at(metric);
  }
  return out;
}

Interval percentile_interval(std::vector<double> values, double confidence) {
  if (!(confidence > 0 && confidence < 1)) {
    throw std::invalid_argument(fmt::format("bootstrap: confidence {} is not in (0, 1)", confidence));
  }
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return std::isnan(v); }), values.end());
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  const auto quantile = [&](double q) {
    const double pos = q * static_cast<double>(values.size() - 1);
    const auto i = static_cast<size_t>(std::floor(pos));
    if (i + 1 >= values.size()) return values.back();
    return values[i] + (pos - static_cast<double>(i)) * (values[i + 1] - values[i]);
  };
  const double tail = (1 - confidence) / 2;
  return {quantile(tail), quantile(1 - tail)};
}

double bootstrap_p_value(const std::vector<double>& deltas) {
  int64_t n = 0, at_most_0 = 0, at_least_0 = 0;
  for (double d : deltas) {
    if (std::isnan(d)) continue;
    ++n;
    at_most_0 += d <= 0;
    at_least_0 += d >= 0;
  }
  if (n == 0) return kNaN;
  return std::min(1.0, 2.0 * static_cast<double>(std::min(at_most_0, at_least_0) + 1) / static_cast<double>(n + 1));
}

PairedResult paired_bootstrap(const std::vector<double>& mask, const std::vector<double>& baseline, double confidence) {
  if (mask.size() != baseline.size()) {
    throw std::invalid_argument(
        fmt::format("bootstrap: {} resampled scores against {} of the baseline", mask.size(), baseline.size()));
  }
  std::vector<double> delta(mask.size());
  for (size_t r = 0; r < mask.size(); ++r) delta[r] = mask[r] - baseline[r];
  PairedResult out;
  out.score = percentile_interval(mask, confidence);
  out.delta = percentile_interval(delta, confidence);
  out.p_value = bootstrap_p_value(delta);
  return out;
}

}  // namespace hs::metrics
