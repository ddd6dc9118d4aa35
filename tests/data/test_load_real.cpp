// The shipped GLUE files load completely, with the row and label counts of the GLUE README
// (recounted from the files with awk -F'\t'), and with texts exactly as in the file.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <map>

#include "data/dataset.h"
#include "test_env.h"

using hs::data::Dataset;
using hs::data::find_task;
using hs::data::load_split;

namespace {

std::vector<int64_t> class_counts(const Dataset& ds) {
  std::vector<int64_t> counts(ds.task->labels.size(), 0);
  for (const auto& ex : ds.examples) ++counts.at(static_cast<size_t>(ex.label));
  return counts;
}

void check_rows_and_lines(const Dataset& ds, int64_t first_line) {
  for (size_t i = 0; i < ds.examples.size(); ++i) {
    CATCH_REQUIRE(ds.examples[i].row == static_cast<int64_t>(i));
    CATCH_REQUIRE(ds.examples[i].line == first_line + static_cast<int64_t>(i));
  }
}

}  // namespace

CATCH_TEST_CASE("real GLUE dev and train files: row and label counts", "[data][glue]") {
  HS_REQUIRE_GLUE(glue);
  struct Expected {
    const char* task;
    const char* split;
    int64_t rows;
    std::vector<int64_t> counts;  // per class, in TaskSpec::labels order
  };
  const std::vector<Expected> expected = {
      {"cola", "dev", 1043, {322, 721}},      {"cola", "train", 8551, {2528, 6023}},
      {"sst2", "dev", 872, {428, 444}},       {"sst2", "train", 67349, {29780, 37569}},
      {"mrpc", "dev", 408, {129, 279}},       {"mrpc", "train", 3668, {1194, 2474}},
      {"qnli", "dev", 5463, {2702, 2761}},    {"rte", "dev", 277, {146, 131}},
      {"rte", "train", 2490, {1249, 1241}},   {"wnli", "dev", 71, {40, 31}},
      {"wnli", "train", 635, {323, 312}},
  };
  for (const Expected& e : expected) {
    CATCH_SECTION(std::string(e.task) + " " + e.split) {
      const Dataset ds = load_split(find_task(e.task), glue, e.split);
      CATCH_CHECK(ds.task == &find_task(e.task));
      CATCH_CHECK(ds.split == e.split);
      CATCH_CHECK(static_cast<int64_t>(ds.examples.size()) == e.rows);
      CATCH_CHECK(class_counts(ds) == e.counts);
      check_rows_and_lines(ds, ds.task->has_header ? 2 : 1);
    }
  }
}

CATCH_TEST_CASE("real STS-B: scores are the last column, 0 to 5", "[data][glue]") {
  HS_REQUIRE_GLUE(glue);
  for (const auto& [split, rows] : std::vector<std::pair<std::string, size_t>>{{"dev", 1500},
                                                                               {"train", 5749}}) {
    const Dataset ds = load_split(find_task("stsb"), glue, split);
    CATCH_CHECK(ds.examples.size() == rows);
    double lo = 5.0;
    double hi = 0.0;
    for (const auto& ex : ds.examples) {
      lo = std::min(lo, ex.label);
      hi = std::max(hi, ex.label);
    }
    CATCH_CHECK(lo == 0.0);
    CATCH_CHECK(hi == 5.0);
  }
}

CATCH_TEST_CASE("real files: first and last examples match the file", "[data][glue]") {
  HS_REQUIRE_GLUE(glue);
  CATCH_SECTION("CoLA dev: headerless, no trailing newline") {
    const Dataset ds = load_split(find_task("cola"), glue, "dev");
    CATCH_CHECK(ds.examples.front().text_a == "The sailors rode the breeze clear of the rocks.");
    CATCH_CHECK(ds.examples.front().line == 1);
    CATCH_CHECK(ds.examples.back().text_a == "John talked to Bill about himself.");
    CATCH_CHECK(ds.examples.back().line == 1043);
    CATCH_CHECK(ds.examples.back().label == 1.0);
    CATCH_CHECK(ds.examples.back().text_b.empty());
  }
  CATCH_SECTION("SST-2 dev keeps the space before the tab") {
    const Dataset ds = load_split(find_task("sst2"), glue, "dev");
    CATCH_CHECK(ds.examples.front().text_a == "it 's a charming and often affecting journey . ");
    CATCH_CHECK(ds.examples.front().label == 1.0);
    CATCH_CHECK(ds.examples.back().text_a ==
                "looking aristocratic , luminous yet careworn in jane hamilton 's exemplary "
                "costumes , rampling gives a performance that could not be improved upon . ' ");
  }
  CATCH_SECTION("MRPC dev: BOM header, label first, quotes are plain characters") {
    const Dataset ds = load_split(find_task("mrpc"), glue, "dev");
    const auto& first = ds.examples.front();
    CATCH_CHECK(first.text_a ==
                "He said the foodservice pie business doesn 't fit the company 's long-term "
                "growth strategy .");
    CATCH_CHECK(first.text_b ==
                "\" The foodservice pie business does not fit our long-term growth strategy .");
    CATCH_CHECK(first.label == 1.0);
    const auto& last = ds.examples.back();
    CATCH_CHECK(last.text_b ==
                "In Soviet times the Beatles ' music \" was considered propaganda of an alien "
                "ideology .");
    CATCH_CHECK(last.line == 409);
  }
  CATCH_SECTION("STS-B dev") {
    const Dataset ds = load_split(find_task("stsb"), glue, "dev");
    CATCH_CHECK(ds.examples.front().text_a == "A man with a hard hat is dancing.");
    CATCH_CHECK(ds.examples.front().text_b == "A man wearing a hard hat is dancing.");
    CATCH_CHECK(ds.examples.front().label == 5.0);
    CATCH_CHECK(ds.examples[1].label == 4.75);
    CATCH_CHECK(ds.examples.back().text_a ==
                "New video shows US police officers beating mentally-ill man");
    CATCH_CHECK(ds.examples.back().text_b ==
                "New York police officer critically wounded in hatchet attack");
    CATCH_CHECK(ds.examples.back().label == 0.0);
  }
  CATCH_SECTION("QNLI dev") {
    const Dataset ds = load_split(find_task("qnli"), glue, "dev");
    CATCH_CHECK(ds.examples.front().text_a ==
                "What came into force after the new constitution was herald?");
    CATCH_CHECK(ds.examples.front().label == 0.0);
    CATCH_CHECK(ds.examples.back().text_a == "Who discovered this and where did they come from?");
    CATCH_CHECK(ds.examples.back().label == 1.0);
  }
  CATCH_SECTION("WNLI dev: 0/1 labels with 1 = entailment") {
    const Dataset ds = load_split(find_task("wnli"), glue, "dev");
    CATCH_CHECK(ds.examples.front().text_b == "The hair has to be cleaned.");
    CATCH_CHECK(ds.examples.front().label == 0.0);
    CATCH_CHECK(ds.examples[1].label == 1.0);
    CATCH_CHECK(ds.task->labels[1] == "entailment");
    CATCH_CHECK(ds.examples.back().text_b == "Eric was not particularly eager to see it.");
  }
}

CATCH_TEST_CASE("data_dir may be the GLUE root or the task folder", "[data][glue]") {
  HS_REQUIRE_GLUE(glue);
  const Dataset from_root = load_split(find_task("rte"), glue, "dev");
  const Dataset from_task = load_split(find_task("RTE"), glue + "/RTE", "dev");
  CATCH_CHECK(from_root.examples.size() == from_task.examples.size());
  CATCH_CHECK(std::filesystem::equivalent(from_root.path, from_task.path));
  CATCH_CHECK(from_task.path.find("dev.tsv") != std::string::npos);
}

CATCH_TEST_CASE("limit keeps the first rows", "[data][glue]") {
  HS_REQUIRE_GLUE(glue);
  const Dataset all = load_split(find_task("sst2"), glue, "dev");
  const Dataset some = load_split(find_task("sst2"), glue, "dev", 5);
  CATCH_REQUIRE(some.examples.size() == 5);
  for (size_t i = 0; i < 5; ++i) {
    CATCH_CHECK(some.examples[i].text_a == all.examples[i].text_a);
    CATCH_CHECK(some.examples[i].line == all.examples[i].line);
  }
  CATCH_CHECK(load_split(find_task("sst2"), glue, "dev", 100000).examples.size() == 872);
  CATCH_CHECK(load_split(find_task("sst2"), glue, "dev", 0).examples.size() == 872);
}
