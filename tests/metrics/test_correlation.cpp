#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>

#include "metrics/correlation.h"
#include "near.h"

using namespace hs::metrics;

CATCH_TEST_CASE("pearson on a worked example", "[metrics]") {
  // x = 1 2 3 4 (mean 2.5), y = 2 4 5 9 (mean 5)
  // dx = −1.5 −.5 .5 1.5, dy = −3 −1 0 4
  // Σdx·dy = 4.5 + .5 + 0 + 6 = 11, Σdx² = 5, Σdy² = 26 → r = 11 / sqrt(130)
  CATCH_CHECK(pearson({1, 2, 3, 4}, {2, 4, 5, 9}) == exactly(11.0 / std::sqrt(130.0)));
  CATCH_CHECK(pearson({2, 4, 5, 9}, {1, 2, 3, 4}) == exactly(11.0 / std::sqrt(130.0)));
  CATCH_CHECK(pearson({1, 2, 3}, {3, 2, 1}) == exactly(-1.0));
  CATCH_CHECK(pearson({0.1, 0.2, 0.3}, {10, 20, 30}) == exactly(1.0));
}

CATCH_TEST_CASE("average ranks for ties", "[metrics]") {
  CATCH_CHECK(average_ranks({10, 20, 20}) == std::vector<double>{1, 2.5, 2.5});
  CATCH_CHECK(average_ranks({3, 1, 2, 2, 5}) == std::vector<double>{4, 1, 2.5, 2.5, 5});
  CATCH_CHECK(average_ranks({7, 7, 7}) == std::vector<double>{2, 2, 2});
  CATCH_CHECK(average_ranks({5}) == std::vector<double>{1});
}

CATCH_TEST_CASE("spearman with ties uses average ranks", "[metrics]") {
  // x = 1 2 2 4 → ranks 1 2.5 2.5 4; y = 1 3 2 2 → ranks 1 4 2.5 2.5; mean rank 2.5.
  // dx = −1.5 0 0 1.5, dy = −1.5 1.5 0 0; Σdx·dy = 2.25, Σdx² = Σdy² = 4.5 → ρ = 0.5
  CATCH_CHECK(spearman({1, 2, 2, 4}, {1, 3, 2, 2}) == exactly(0.5));
  // x = 3 1 2 2 5 → ranks 4 1 2.5 2.5 5; y = 30 10 25 20 40 → ranks 4 1 3 2 5; mean 3.
  // dx = 1 −2 −.5 −.5 2, dy = 1 −2 0 −1 2; Σdx·dy = 9.5, Σdx² = 9.5, Σdy² = 10
  // → ρ = 9.5 / sqrt(95) = sqrt(95) / 10
  CATCH_CHECK(spearman({3, 1, 2, 2, 5}, {30, 10, 25, 20, 40}) == exactly(std::sqrt(95.0) / 10.0));
  // Monotone but not linear: ρ = 1 while r < 1.
  CATCH_CHECK(spearman({1, 2, 3, 4}, {1, 8, 27, 64}) == exactly(1.0));
  CATCH_CHECK(pearson({1, 2, 3, 4}, {1, 8, 27, 64}) < 0.99);
  CATCH_CHECK(spearman({1, 2, 3, 4}, {4, 3, 2, 1}) == exactly(-1.0));
}

CATCH_TEST_CASE("a constant input has no correlation: NaN", "[metrics]") {
  CATCH_CHECK(std::isnan(pearson({1, 1, 1}, {1, 2, 3})));
  CATCH_CHECK(std::isnan(pearson({1, 2, 3}, {0.1, 0.1, 0.1})));
  CATCH_CHECK(std::isnan(spearman({2, 2, 2}, {1, 2, 3})));
  CATCH_CHECK(std::isnan(spearman({1, 2, 3}, {4, 4, 4})));
  CATCH_CHECK(std::isnan(pearson({5}, {6})));
}

CATCH_TEST_CASE("correlations reject bad input", "[metrics]") {
  CATCH_REQUIRE_THROWS_AS(pearson({}, {}), std::invalid_argument);
  CATCH_REQUIRE_THROWS_AS(spearman({}, {}), std::invalid_argument);
  CATCH_REQUIRE_THROWS_WITH(spearman({1, 2}, {1, 2, 3}), "spearman: 2 predictions but 3 gold values");
  CATCH_REQUIRE_THROWS_AS(pearson({1, 2}, {1}), std::invalid_argument);
  CATCH_REQUIRE_THROWS_AS(spearman({1, NAN}, {1, 2}), std::invalid_argument);
  CATCH_REQUIRE_THROWS_AS(pearson({1, INFINITY}, {1, 2}), std::invalid_argument);
}
