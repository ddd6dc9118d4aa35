// Ablation importance read off a sweep, and rank agreement, against hand-worked values.
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "metrics/ablation.h"

using hs::metrics::ablation_importance;
using hs::metrics::rank_agreement;

CATCH_TEST_CASE("ablation_importance: baseline minus each single-head mask's score", "[metrics][ablation]") {
  // L = 1, H = 3: baseline 0.9; removing head 0 gives 0.7, head 2 gives 0.95; head 1 only appears
  // in a two-head mask, which is not an ablation of one head.
  const std::vector<uint8_t> masks = {1, 1, 1,  //
                                      0, 1, 1,  //
                                      1, 0, 0,  //
                                      1, 1, 0};
  const std::vector<double> scores = {0.9, 0.7, 0.1, 0.95};
  const std::vector<double> imp = ablation_importance(masks, scores, 1, 3);
  CATCH_REQUIRE(imp.size() == 3);
  CATCH_CHECK(imp[0] == Approx(0.2));
  CATCH_CHECK(std::isnan(imp[1]));
  CATCH_CHECK(imp[2] == Approx(-0.05));
  CATCH_CHECK_THROWS_AS(ablation_importance(masks, {0.9}, 1, 3), std::invalid_argument);
}

CATCH_TEST_CASE("rank_agreement: Spearman over the heads both know", "[metrics][ablation]") {
  const double nan = std::nan("");
  // Same order on the finite heads: 1. Reversed: -1.
  CATCH_CHECK(rank_agreement({1, 2, nan, 3, 4}, {10, 20, 30, 31, 40}) == Approx(1.0));
  CATCH_CHECK(rank_agreement({1, 2, 3, 4}, {4, 3, 2, 1}) == Approx(-1.0));
  // Ranks {1, 2, 3, 4} vs {1, 3, 2, 4}: 1 - 6·2 / (4·15) = 0.8.
  CATCH_CHECK(rank_agreement({1, 2, 3, 4}, {1, 3, 2, 4}) == Approx(0.8));
  CATCH_CHECK(std::isnan(rank_agreement({1, nan}, {1, 2})));
}
