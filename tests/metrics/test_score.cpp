#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>

#include "metrics/correlation.h"
#include "metrics/score.h"
#include "near.h"
#include "util/error.h"

using hs::metrics::score;
using Catch::Matchers::Contains;

CATCH_TEST_CASE("score computes each named metric", "[metrics]") {
  // TP 1, FP 1, FN 1, TN 1: accuracy 2/4, F1 = 2 / (2 + 1 + 1), MCC = (1 − 1) / … = 0.
  const std::vector<double> pred = {1, 1, 0, 0};
  const std::vector<double> gold = {1, 0, 1, 0};
  const auto s = score({"f1", "accuracy", "mcc"}, pred, gold);
  CATCH_REQUIRE(s.size() == 3);
  CATCH_CHECK(s.at("accuracy") == exactly(0.5));
  CATCH_CHECK(s.at("f1") == exactly(0.5));
  CATCH_CHECK(s.at("mcc") == exactly(0.0));

  const auto c = score({"pearson", "spearman"}, {1, 2, 2, 4}, {1, 3, 2, 2});
  CATCH_CHECK(c.at("spearman") == exactly(0.5));
  CATCH_CHECK(c.count("pearson") == 1);
  CATCH_CHECK(score({}, pred, gold).empty());
}

CATCH_TEST_CASE("score: unknown names are InputErrors, checked before any work", "[metrics]") {
  CATCH_REQUIRE_THROWS_AS(score({"accuracy", "auc"}, {}, {}), hs::InputError);
  CATCH_REQUIRE_THROWS_WITH(score({"matthews"}, {1}, {1}),
                            Contains("unknown metric 'matthews'") &&
                                Contains("accuracy, f1, mcc, pearson, spearman"));
  CATCH_REQUIRE_THROWS_AS(score({"accuracy"}, {}, {}), std::invalid_argument);
  CATCH_REQUIRE_THROWS_AS(score({"pearson"}, {1, 2}, {1}), std::invalid_argument);
}

CATCH_TEST_CASE("score: a prediction that is not finite leaves every metric undefined", "[metrics]") {
  // A model output that overflowed (inf, NaN) or a classification without a class (NaN): the mask's
  // scores are NaN, not an error that would stop the sweep.
  for (const double bad : {INFINITY, -INFINITY, NAN}) {
    CATCH_CAPTURE(bad);
    const auto c = score({"spearman", "pearson"}, {1, bad, 2, 4}, {1, 3, 2, 2});
    CATCH_CHECK(std::isnan(c.at("spearman")));
    CATCH_CHECK(std::isnan(c.at("pearson")));
    const auto k = score({"accuracy", "f1", "mcc"}, {1, 0, bad, 1}, {1, 0, 1, 1});
    for (const auto& [name, value] : k) CATCH_CHECK(std::isnan(value));
  }
  // The metrics themselves still refuse such input, and gold values must be finite.
  CATCH_CHECK_THROWS_AS(hs::metrics::spearman({1, NAN, 2}, {1, 2, 3}), std::invalid_argument);
  CATCH_CHECK_THROWS_AS(score({"spearman"}, {1, 2, 3}, {1, NAN, 3}), std::invalid_argument);
}

CATCH_TEST_CASE("metric kinds", "[metrics]") {
  CATCH_CHECK(hs::metrics::takes_class_predictions("accuracy"));
  CATCH_CHECK(hs::metrics::takes_class_predictions("mcc"));
  CATCH_CHECK_FALSE(hs::metrics::takes_class_predictions("spearman"));
  CATCH_REQUIRE_THROWS_AS(hs::metrics::takes_class_predictions("bleu"), hs::InputError);
  CATCH_CHECK(hs::metrics::metric_names().size() == 5);
}
