// Pruning curves by hand: fixed rankings, the per-layer floor, recomputed scores, random orders.
#include <algorithm>
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "sweep/pruning.h"
#include "sweep/sweep_stats.h"

using hs::sweep::prune_curve;
using hs::sweep::PruningSchedule;

CATCH_TEST_CASE("percent schedule: least important heads first", "[sweep][pruning]") {
  // L = 2, H = 3. Scores by head index g = l·H + h; ascending: g1, g3, g2, g5, g0, g4.
  const std::vector<double> s = {5, 1, 3, 2, 6, 4};
  PruningSchedule sched;
  sched.fractions = {0.5, 1.0};
  const auto c = prune_curve("importance", 2, 3, sched, [&](const std::vector<uint8_t>&) { return s; });
  CATCH_REQUIRE(c.masks.size() == 3);
  CATCH_CHECK(c.masks[0] == std::vector<uint8_t>{1, 1, 1, 1, 1, 1});
  CATCH_CHECK(c.masks[1] == std::vector<uint8_t>{1, 0, 0, 0, 1, 1});
  CATCH_CHECK(c.masks[2] == std::vector<uint8_t>{0, 0, 0, 0, 0, 0});
  CATCH_CHECK(c.heads_pruned == std::vector<int64_t>{0, 3, 6});
  CATCH_CHECK(c.fractions == std::vector<double>{0.0, 0.5, 1.0});

  // Every layer keeps a head: g0 and g4 stay, the curve ends at 4 heads.
  sched.min_heads_per_layer = 1;
  const auto f = prune_curve("importance", 2, 3, sched, [&](const std::vector<uint8_t>&) { return s; });
  CATCH_REQUIRE(f.masks.size() == 3);
  CATCH_CHECK(f.masks[1] == std::vector<uint8_t>{1, 0, 0, 0, 1, 1});
  CATCH_CHECK(f.masks[2] == std::vector<uint8_t>{1, 0, 0, 0, 1, 0});
  CATCH_CHECK(f.heads_pruned == std::vector<int64_t>{0, 3, 4});

  // Fractions round down to whole heads, as Michel et al.'s int(): 0.1 of 6 = 0.6 -> none, 0.2 of
  // 6 = 1.2 -> 1. They must increase.
  sched.min_heads_per_layer = 0;
  sched.fractions = {0.1};
  CATCH_CHECK(prune_curve("x", 2, 3, sched, [&](const std::vector<uint8_t>&) { return s; }).heads_pruned ==
              std::vector<int64_t>{0});
  sched.fractions = {0.2, 0.34};
  CATCH_CHECK(prune_curve("x", 2, 3, sched, [&](const std::vector<uint8_t>&) { return s; }).heads_pruned ==
              std::vector<int64_t>{0, 1, 2});
  // A product that binary fractions put just below a whole number (0.29 · 100 = 28.999999999999996)
  // still counts that number.
  const std::vector<double> hundred(100, 1.0);
  sched.fractions = {0.29};
  CATCH_CHECK(prune_curve("x", 10, 10, sched, [&](const std::vector<uint8_t>&) { return hundred; }).heads_pruned ==
              std::vector<int64_t>{0, 29});
  sched.fractions = {0.5, 0.2};
  CATCH_CHECK_THROWS_AS(prune_curve("x", 2, 3, sched, [&](const std::vector<uint8_t>&) { return s; }),
                        std::invalid_argument);
}

CATCH_TEST_CASE("count schedule: scores recomputed under the current mask", "[sweep][pruning]") {
  // L = 1, H = 5; a head's score is its index, until head 0 is gone: then head 4 matters least.
  int calls = 0;
  auto scores = [&](const std::vector<uint8_t>& mask) {
    ++calls;
    std::vector<double> s = {0, 1, 2, 3, 4};
    if (!mask[0]) s[4] = -1;
    return s;
  };
  PruningSchedule sched;
  sched.kind = "count";
  sched.count = 2;
  const auto c = prune_curve("importance", 1, 5, sched, scores);
  CATCH_CHECK(calls == 3);
  CATCH_CHECK(c.heads_pruned == std::vector<int64_t>{0, 2, 4, 5});
  CATCH_CHECK(c.masks[1] == std::vector<uint8_t>{0, 0, 1, 1, 1});
  CATCH_CHECK(c.masks[2] == std::vector<uint8_t>{0, 0, 0, 1, 0});  // 4 went before 2
  CATCH_CHECK(c.masks[3] == std::vector<uint8_t>{0, 0, 0, 0, 0});
}

CATCH_TEST_CASE("random_head_scores: a seeded permutation", "[sweep][pruning]") {
  const auto a = hs::sweep::random_head_scores(6, 12, 1), b = hs::sweep::random_head_scores(6, 12, 1);
  const auto c = hs::sweep::random_head_scores(6, 12, 2);
  CATCH_CHECK(a == b);
  CATCH_CHECK(a != c);
  std::vector<double> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) CATCH_CHECK(sorted[i] == static_cast<double>(i));
}

CATCH_TEST_CASE("pruning_scores: curve scores and the two summaries by hand", "[sweep][pruning]") {
  // Masks 0..4; the curve visits 0 (baseline), 2, 3, 4 at 0%, 25%, 50%, 75%.
  hs::io::PruningRecord c;
  c.name = "importance";
  c.fractions = {0.0, 0.25, 0.5, 0.75};
  c.heads_pruned = {0, 1, 2, 3};
  c.mask_index = {0, 2, 3, 4};
  const std::vector<double> scores = {0.90, 0.10, 0.905, 0.885, 0.70};
  const std::vector<double> p = {1.0, 0.0, 0.60, 0.02, 0.001};
  const auto s = hs::sweep::pruning_scores(c, scores, p, 0.01, 0.05);
  CATCH_CHECK(s.score == std::vector<double>{0.90, 0.905, 0.885, 0.70});
  CATCH_CHECK(s.p_value == std::vector<double>{1.0, 0.60, 0.02, 0.001});
  // Drops: -0.005, 0.015, 0.2: within 0.01 up to 25%. Step 50% drops significantly (p 0.02): 25%.
  CATCH_CHECK(s.within_tolerance == 0.25);
  CATCH_CHECK(s.not_significant == 0.25);
  // A looser tolerance reaches 50%; without p-values there is no significance summary.
  const auto t = hs::sweep::pruning_scores(c, scores, {}, 0.02, 0.05);
  CATCH_CHECK(t.within_tolerance == 0.5);
  CATCH_CHECK(std::isnan(t.not_significant));
  CATCH_CHECK(std::isnan(t.p_value[1]));
}
