#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>

#include "metrics/classification.h"
#include "near.h"

using namespace hs::metrics;

namespace {

// Rows with the given confusion counts, class 1 positive.
void confusion(int tp, int fp, int fn, int tn, std::vector<double>& pred, std::vector<double>& gold) {
  auto add = [&](int n, double p, double g) {
    for (int i = 0; i < n; ++i) {
      pred.push_back(p);
      gold.push_back(g);
    }
  };
  add(tp, 1, 1);
  add(fp, 1, 0);
  add(fn, 0, 1);
  add(tn, 0, 0);
}

}  // namespace

CATCH_TEST_CASE("binary metrics on a worked confusion matrix", "[metrics]") {
  // TP 3, FP 1, FN 2, TN 4 (n = 10).
  std::vector<double> pred;
  std::vector<double> gold;
  confusion(3, 1, 2, 4, pred, gold);
  const BinaryCounts c = binary_counts(pred, gold);
  CATCH_CHECK(c.tp == 3);
  CATCH_CHECK(c.fp == 1);
  CATCH_CHECK(c.fn == 2);
  CATCH_CHECK(c.tn == 4);
  // accuracy = (3 + 4) / 10
  CATCH_CHECK(accuracy(pred, gold) == exactly(0.7));
  // precision 3/4, recall 3/5; F1 = 2·3 / (2·3 + 1 + 2) = 6/9
  CATCH_CHECK(f1(pred, gold) == exactly(2.0 / 3.0));
  // MCC = (3·4 − 1·2) / sqrt((3+1)(3+2)(4+1)(4+2)) = 10 / sqrt(600) = 1/sqrt(6)
  CATCH_CHECK(mcc(pred, gold) == exactly(1.0 / std::sqrt(6.0)));
  // Row order does not matter.
  std::vector<double> rp(pred.rbegin(), pred.rend());
  std::vector<double> rg(gold.rbegin(), gold.rend());
  CATCH_CHECK(mcc(rp, rg) == exactly(1.0 / std::sqrt(6.0)));
}

CATCH_TEST_CASE("F1 with perfect recall and half precision", "[metrics]") {
  // TP 2, FP 2, FN 0, TN 1: precision 2/4, recall 1; F1 = 4 / (4 + 2 + 0) = 2/3.
  std::vector<double> pred;
  std::vector<double> gold;
  confusion(2, 2, 0, 1, pred, gold);
  CATCH_CHECK(f1(pred, gold) == exactly(2.0 / 3.0));
  // MCC = (2·1 − 2·0) / sqrt(4·2·3·1) = 2 / sqrt(24)
  CATCH_CHECK(mcc(pred, gold) == exactly(2.0 / std::sqrt(24.0)));
}

CATCH_TEST_CASE("zero denominators give 0, as sklearn with zero_division=0", "[metrics]") {
  // No predicted positives: precision 0/0 → 0, recall 0/2 = 0, F1 = 0.
  CATCH_CHECK(f1({0, 0, 0}, {1, 0, 1}) == 0.0);
  // No positives at all: precision and recall both 0/0 → F1 0.
  CATCH_CHECK(f1({0, 0}, {0, 0}) == 0.0);
  // Everything predicted positive: TP 2, FP 1; F1 = 4 / (4 + 1) = 0.8, but MCC's
  // (TP+FP)(TP+FN)(TN+FP)(TN+FN) = 3·2·1·0 = 0 → 0.
  CATCH_CHECK(f1({1, 1, 1}, {1, 0, 1}) == exactly(0.8));
  CATCH_CHECK(mcc({1, 1, 1}, {1, 0, 1}) == 0.0);
  // One gold class only: MCC 0 whatever the predictions.
  CATCH_CHECK(mcc({0, 1, 0}, {0, 0, 0}) == 0.0);
  // All wrong: accuracy 0, F1 0 (TP 0), MCC −1.
  CATCH_CHECK(accuracy({1, 0}, {0, 1}) == 0.0);
  CATCH_CHECK(f1({1, 0}, {0, 1}) == 0.0);
  CATCH_CHECK(mcc({1, 0}, {0, 1}) == exactly(-1.0));
  CATCH_CHECK(mcc({1, 0, 1}, {1, 0, 1}) == exactly(1.0));
}

CATCH_TEST_CASE("multi-class accuracy and MCC", "[metrics]") {
  // gold 0 0 1 1 2 2, pred 0 1 1 1 2 0: 4 correct of n = 6.
  const std::vector<double> gold = {0, 0, 1, 1, 2, 2};
  const std::vector<double> pred = {0, 1, 1, 1, 2, 0};
  CATCH_CHECK(accuracy(pred, gold) == exactly(4.0 / 6.0));
  // sklearn's K-class form: gold counts t = (2, 2, 2), predicted counts p = (2, 3, 1),
  // cov(y,ŷ) = c·n − Σ t_k p_k = 4·6 − (4 + 6 + 2) = 12,
  // cov(ŷ,ŷ) = n² − Σ p_k² = 36 − 14 = 22, cov(y,y) = 36 − 12 = 24;
  // MCC = 12 / sqrt(24 · 22) = 12 / sqrt(528).
  CATCH_CHECK(mcc(pred, gold) == exactly(12.0 / std::sqrt(528.0)));
}

CATCH_TEST_CASE("classification metrics reject bad input", "[metrics]") {
  CATCH_REQUIRE_THROWS_AS(accuracy({}, {}), std::invalid_argument);
  CATCH_REQUIRE_THROWS_AS(f1({}, {}), std::invalid_argument);
  CATCH_REQUIRE_THROWS_AS(mcc({}, {}), std::invalid_argument);
  CATCH_REQUIRE_THROWS_WITH(accuracy({1, 0}, {1}), "accuracy: 2 predictions but 1 gold values");
  CATCH_REQUIRE_THROWS_AS(mcc({1}, {1, 0}), std::invalid_argument);
  // Not a class index.
  CATCH_REQUIRE_THROWS_AS(accuracy({0.5}, {0}), std::invalid_argument);
  CATCH_REQUIRE_THROWS_AS(mcc({-1}, {0}), std::invalid_argument);
  CATCH_REQUIRE_THROWS_AS(accuracy({NAN}, {0}), std::invalid_argument);
  // F1 is binary.
  CATCH_REQUIRE_THROWS_WITH(f1({2, 0}, {1, 0}), Catch::Matchers::Contains("binary"));
}
