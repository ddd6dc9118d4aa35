#include <catch2/catch.hpp>

#include <stdexcept>

#include "data/summary.h"
#include "test_env.h"
#include "util/error.h"

using hs::data::Dataset;
using hs::data::find_task;
using hs::data::summarize;
using Catch::Matchers::Contains;

namespace {

Dataset make(const char* task, const std::vector<double>& labels) {
  Dataset ds;
  ds.task = &find_task(task);
  ds.split = "dev";
  ds.path = "mem.tsv";
  for (size_t i = 0; i < labels.size(); ++i) {
    ds.examples.push_back({static_cast<int64_t>(i), static_cast<int64_t>(i + 2), "a", "b", labels[i]});
  }
  return ds;
}

}  // namespace

CATCH_TEST_CASE("summary of a classification split", "[data]") {
  // 3 entailment, 0 neutral, 1 contradiction: the unused class still shows up with 0.
  const Dataset ds = make("mnli", {0, 0, 2, 0});
  const auto s = summarize(ds);
  CATCH_CHECK(s.rows == 4);
  CATCH_REQUIRE(s.label_counts.size() == 3);
  CATCH_CHECK(s.label_counts[0].label == "entailment");
  CATCH_CHECK(s.label_counts[0].count == 3);
  CATCH_CHECK(s.label_counts[1].count == 0);
  CATCH_CHECK(s.label_counts[2].count == 1);
  CATCH_CHECK_FALSE(s.scores);
  CATCH_CHECK_FALSE(s.lengths);
  const std::string text = format_summary(s);
  CATCH_CHECK_THAT(text, Contains("mnli dev: 4 rows (mem.tsv)"));
  CATCH_CHECK_THAT(text, Contains("entailment"));
  CATCH_CHECK_THAT(text, Contains("75.0%"));
  CATCH_CHECK_THAT(text, Contains("contradiction"));
}

CATCH_TEST_CASE("summary of a regression split: bins over [0, 5], last bin closed", "[data]") {
  // Bins [0,1) [1,2) [2,3) [3,4) [4,5]: 0.0 and 0.99 | 1.0 | - | - | 4.2 and 5.0
  const Dataset ds = make("stsb", {0.0, 0.99, 1.0, 4.2, 5.0});
  const auto s = summarize(ds);
  CATCH_REQUIRE(s.scores);
  CATCH_CHECK(s.scores->min == 0.0);
  CATCH_CHECK(s.scores->max == 5.0);
  // (0 + 0.99 + 1 + 4.2 + 5) / 5 = 11.19 / 5
  CATCH_CHECK(s.scores->mean == Approx(2.238).epsilon(1e-12));
  CATCH_CHECK(s.scores->histogram == std::array<int64_t, 5>{2, 1, 0, 0, 2});
  CATCH_CHECK(s.label_counts.empty());
  const std::string text = format_summary(s);
  CATCH_CHECK_THAT(text, Contains("[4, 5]"));
  CATCH_CHECK_THAT(text, Contains("[0, 1)"));
}

CATCH_TEST_CASE("token length statistics use nearest-rank percentiles", "[data]") {
  const Dataset ds = make("sst2", std::vector<double>(10, 1.0));
  // Lengths 1..10, shuffled. Nearest rank of p over n = 10 is ceil(p·10/100):
  // p50 → rank 5 → 5, p90 → rank 9 → 9, p99 → rank 10 → 10. Mean 55 / 10.
  const std::vector<int> lengths = {7, 3, 10, 1, 5, 9, 2, 8, 4, 6};
  const auto s = summarize(ds, lengths, 8);
  CATCH_REQUIRE(s.lengths);
  CATCH_CHECK(s.lengths->min == 1);
  CATCH_CHECK(s.lengths->max == 10);
  CATCH_CHECK(s.lengths->mean == 5.5);
  CATCH_CHECK(s.lengths->p50 == 5);
  CATCH_CHECK(s.lengths->p90 == 9);
  CATCH_CHECK(s.lengths->p99 == 10);
  CATCH_CHECK(s.lengths->max_seq_len == 8);
  CATCH_CHECK(s.lengths->over_max == 2);  // 9 and 10
  CATCH_CHECK_THAT(format_summary(s), Contains("2 over max_seq_len 8 (20.0%)"));
  CATCH_CHECK_THAT(format_summary(s, "words"), Contains("lengths (words): min 1, mean 5.5, p50 5"));

  const auto one = summarize(make("sst2", {1.0}), {42});
  CATCH_CHECK(one.lengths->p50 == 42);
  CATCH_CHECK(one.lengths->p99 == 42);
  CATCH_CHECK(one.lengths->over_max == 0);

  CATCH_REQUIRE_THROWS_AS(summarize(ds, {1, 2, 3}), std::invalid_argument);
  CATCH_REQUIRE_THROWS_AS(summarize(ds, lengths, 0), hs::InputError);
}

CATCH_TEST_CASE("summary of the real STS-B and CoLA dev sets", "[data][glue]") {
  HS_REQUIRE_GLUE(glue);
  const auto stsb = summarize(hs::data::load_split(find_task("stsb"), glue, "dev"));
  CATCH_CHECK(stsb.rows == 1500);
  // Counted with awk: int(score), 5.0 folded into the last bin.
  CATCH_CHECK(stsb.scores->histogram == std::array<int64_t, 5>{344, 254, 273, 365, 264});
  CATCH_CHECK(stsb.scores->mean == Approx(3545.8613333333333 / 1500).epsilon(1e-12));
  const auto cola = summarize(hs::data::load_split(find_task("cola"), glue, "dev"));
  CATCH_CHECK(cola.label_counts[0].label == "unacceptable");
  CATCH_CHECK(cola.label_counts[0].count == 322);
  CATCH_CHECK(cola.label_counts[1].count == 721);
}
