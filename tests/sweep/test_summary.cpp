// The run's printed summary: the ranking of the masks that hurt most, and masks without a score.
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "sweep/report.h"

using hs::sweep::format_ranking;
using Scores = std::map<std::string, double>;

CATCH_TEST_CASE("format_ranking ranks by the drop and names the masks without a score apart", "[sweep][summary]") {
  const std::vector<std::string> names = {"baseline", "-L0.H0", "-L0.H1", "-L1.H0", "-L1.H1"};
  const std::vector<Scores> scores = {
      {{"spearman", 0.9}}, {{"spearman", 0.85}}, {{"spearman", NAN}}, {{"spearman", 0.7}}, {}};
  const std::string out = format_ranking({"spearman"}, names, scores, 10);
  CATCH_INFO(out);
  CATCH_CHECK(out ==
              "baseline:  spearman 0.9000\n"
              "1 of 4 masks have no spearman (NaN: constant predictions or gold labels, or model outputs that are not finite): "
              "-L0.H1\n"
              "2 masks whose removal hurts spearman most:\n"
              "   1. L1.H0      spearman 0.7000  (drop +0.2000)\n"
              "   2. L0.H0      spearman 0.8500  (drop +0.0500)\n");
}

CATCH_TEST_CASE("format_ranking with a NaN baseline ranks nothing", "[sweep][summary]") {
  const std::vector<std::string> names = {"baseline", "-L0", "-L1"};
  const std::vector<Scores> scores = {{{"spearman", NAN}}, {{"spearman", 0.5}}, {{"spearman", 0.6}}};
  const std::string out = format_ranking({"spearman"}, names, scores, 10);
  CATCH_INFO(out);
  CATCH_CHECK(out ==
              "baseline:  spearman nan\n"
              "1 of 3 masks have no spearman (NaN: constant predictions or gold labels, or model outputs that are not finite): "
              "baseline\n");
}

CATCH_TEST_CASE("format_ranking prints an undefined interval as nan", "[sweep][summary]") {
  const std::vector<std::string> names = {"baseline", "-L0"};
  const std::vector<Scores> scores = {{{"accuracy", 0.75}}, {{"accuracy", 0.5}}};
  hs::io::BootstrapColumns bs;
  bs.ci = {0.6, 0.9, NAN, NAN};
  bs.delta_ci = {0, 0, NAN, NAN};
  bs.p_value = {1, NAN};
  const std::string out = format_ranking({"accuracy"}, names, scores, 10, &bs, 0.95);
  CATCH_INFO(out);
  CATCH_CHECK(out.find("L0         accuracy 0.5000  (drop +0.2500, 95% CI of the change nan to nan, p nan)") !=
              std::string::npos);
}
