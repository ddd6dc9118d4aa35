// The paired bootstrap: its index draws, percentiles against numpy's, the p-value formula by hand,
// and the distribution of a tiny case against exact enumeration.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "metrics/bootstrap.h"

using hs::metrics::bootstrap_p_value;
using hs::metrics::Interval;
using hs::metrics::paired_bootstrap;
using hs::metrics::percentile_interval;
using hs::metrics::resampled_scores;
using hs::metrics::Resamples;
using hs::metrics::uniform_below;

CATCH_TEST_CASE("uniform_below: multiply-and-reject by hand", "[metrics][bootstrap]") {
  // n = 3: 2^64 mod 3 = 1, so only the draw 0 is rejected. Draw d maps to floor(d·3 / 2^64).
  std::vector<uint64_t> draws = {0, 1, uint64_t{1} << 63, ~uint64_t{0}};
  size_t k = 0;
  auto next = [&] { return draws[k++]; };
  CATCH_CHECK(uniform_below(3, next) == 0);  // 0 rejected, then 1 -> 0
  CATCH_CHECK(k == 2);
  CATCH_CHECK(uniform_below(3, next) == 1);  // 2^63·3 / 2^64 = 1.5
  CATCH_CHECK(uniform_below(3, next) == 2);  // (2^64 - 1)·3 / 2^64 = 2.99...
  // n = 2^k never rejects: the top bits.
  std::vector<uint64_t> one = {uint64_t{0xC000000000000000}};
  size_t j = 0;
  CATCH_CHECK(uniform_below(4, [&] { return one[j++]; }) == 3);
}

CATCH_TEST_CASE("Resamples: seeded, in range, uniform", "[metrics][bootstrap]") {
  const Resamples a(7, 2000, 42), b(7, 2000, 42), c(7, 2000, 43);
  CATCH_REQUIRE(a.size() == 2000);
  CATCH_REQUIRE(a.n_examples() == 7);
  int64_t same_c = 0;
  std::vector<int64_t> counts(7, 0);
  for (int64_t r = 0; r < a.size(); ++r) {
    for (int64_t i = 0; i < 7; ++i) {
      CATCH_REQUIRE(a.indices(r)[i] == b.indices(r)[i]);
      CATCH_REQUIRE(a.indices(r)[i] >= 0);
      CATCH_REQUIRE(a.indices(r)[i] < 7);
      same_c += a.indices(r)[i] == c.indices(r)[i];
      ++counts[a.indices(r)[i]];
    }
  }
  CATCH_CHECK(same_c < 2000 * 7 / 4);  // another seed, other draws (1/7 agree by chance)
  // 14,000 draws over 7 values: each count is 2000 ± 4 standard deviations (sd ≈ 41).
  for (int64_t n : counts) CATCH_CHECK(std::abs(n - 2000) < 165);
  CATCH_CHECK_THROWS_AS(Resamples(0, 10, 1), std::invalid_argument);
}

CATCH_TEST_CASE("percentile_interval matches numpy.percentile (linear)", "[metrics][bootstrap]") {
  // np.percentile(np.arange(1, 11), [2.5, 97.5]) = [1.225, 9.775]
  std::vector<double> v = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
  const Interval i = percentile_interval(v, 0.95);
  CATCH_CHECK(i.low == Approx(1.225).epsilon(1e-12));
  CATCH_CHECK(i.high == Approx(9.775).epsilon(1e-12));
  // np.percentile([0.5, 0.25, 1.0], [5, 95]) = [0.275, 0.95]; NaN left out.
  const Interval j = percentile_interval({0.5, hs::metrics::kNaN, 0.25, 1.0}, 0.9);
  CATCH_CHECK(j.low == Approx(0.275).epsilon(1e-12));
  CATCH_CHECK(j.high == Approx(0.95).epsilon(1e-12));
  CATCH_CHECK(std::isnan(percentile_interval({hs::metrics::kNaN}, 0.95).low));
  CATCH_CHECK_THROWS_AS(percentile_interval(v, 1.0), std::invalid_argument);
}

CATCH_TEST_CASE("bootstrap_p_value by hand", "[metrics][bootstrap]") {
  // 1 of 4 at or below 0, 3 at or above: 2·min(2, 4) / 5.
  CATCH_CHECK(bootstrap_p_value({-1, 1, 2, 3}) == Approx(0.8));
  // All below 0: 2·(0 + 1) / 5, the smallest p-value 4 resamples can give.
  CATCH_CHECK(bootstrap_p_value({-1, -2, -3, -4}) == Approx(0.4));
  // No difference at all: capped at 1.
  CATCH_CHECK(bootstrap_p_value({0, 0, 0}) == 1.0);
  CATCH_CHECK(std::isnan(bootstrap_p_value({})));
}

CATCH_TEST_CASE("paired bootstrap of accuracy on two examples against exact enumeration", "[metrics][bootstrap]") {
  // Baseline gets both examples right; the mask only the first. A resample of 2 indices is one of 4
  // equally likely pairs: (0,0) -> mask 1, (0,1) and (1,0) -> 0.5, (1,1) -> 0. The baseline is 1 on
  // every resample, so delta = mask - 1 takes -1, -0.5 and 0 with probabilities 1/4, 1/2, 1/4.
  const std::vector<double> gold = {1, 0};
  const std::vector<double> base = {1, 0}, mask = {1, 1};
  const Resamples rs(2, 40000, 7);
  const std::vector<double> m = resampled_scores("accuracy", mask, gold, rs);
  const std::vector<double> b = resampled_scores("accuracy", base, gold, rs);
  std::map<double, int64_t> freq;
  for (size_t r = 0; r < m.size(); ++r) {
    CATCH_REQUIRE(b[r] == 1.0);
    ++freq[m[r] - b[r]];
  }
  CATCH_REQUIRE(freq.size() == 3);
  CATCH_CHECK(freq[-1.0] / 40000.0 == Approx(0.25).margin(0.01));
  CATCH_CHECK(freq[-0.5] / 40000.0 == Approx(0.5).margin(0.01));
  CATCH_CHECK(freq[0.0] / 40000.0 == Approx(0.25).margin(0.01));
  const auto r = paired_bootstrap(m, b, 0.95);
  CATCH_CHECK(r.delta.low == -1.0);  // the 2.5% quantile lies in the -1 quarter
  CATCH_CHECK(r.delta.high == 0.0);
  CATCH_CHECK(r.score.low == 0.0);
  CATCH_CHECK(r.score.high == 1.0);
  // P(delta >= 0) = 1/4, so p ≈ 2 · 1/4.
  CATCH_CHECK(r.p_value == Approx(0.5).margin(0.02));
}

CATCH_TEST_CASE("an undefined score is undefined on every resample", "[metrics][bootstrap]") {
  // One prediction of 40 is not finite: resamples that leave it out (about e^-1 of them) must not
  // give the mask an interval its score does not have.
  std::vector<double> gold(40), pred(40);
  for (int i = 0; i < 40; ++i) gold[i] = pred[i] = i % 7;
  pred[13] = INFINITY;
  const Resamples rs(40, 200, 5);
  const std::vector<double> s = resampled_scores("pearson", pred, gold, rs);
  CATCH_CHECK(std::all_of(s.begin(), s.end(), [](double v) { return std::isnan(v); }));
  const auto r = paired_bootstrap(s, resampled_scores("pearson", gold, gold, rs), 0.95);
  CATCH_CHECK(std::isnan(r.score.low));
  CATCH_CHECK(std::isnan(r.delta.high));
  CATCH_CHECK(std::isnan(r.p_value));
}

CATCH_TEST_CASE("paired bootstrap: identical predictions differ by exactly 0", "[metrics][bootstrap]") {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise;
  std::vector<double> gold(50), pred(50);
  for (int i = 0; i < 50; ++i) {
    gold[i] = i / 10.0;
    pred[i] = gold[i] + noise(rng);
  }
  const Resamples rs(50, 500, 11);
  const std::vector<double> s = resampled_scores("spearman", pred, gold, rs);
  const auto r = paired_bootstrap(s, s, 0.95);
  CATCH_CHECK(r.delta.low == 0.0);
  CATCH_CHECK(r.delta.high == 0.0);
  CATCH_CHECK(r.p_value == 1.0);
  CATCH_CHECK(r.score.low < r.score.high);
  CATCH_CHECK(r.score.low > 0.5);  // a strong correlation stays strong on resamples
}
