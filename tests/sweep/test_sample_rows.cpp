// Which rows a run reads: the first `limit`, or `limit` drawn at random, on a real GLUE file.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "data/glue_tasks.h"
#include "sweep/sample_rows.h"
#include "test_env.h"

namespace {

std::vector<int64_t> rows_of(const hs::data::Dataset& ds) {
  std::vector<int64_t> rows;
  for (const auto& ex : ds.examples) rows.push_back(ex.row);
  return rows;
}

}  // namespace

CATCH_TEST_CASE("load_rows: the first rows, or a seeded uniform draw kept in file order", "[sweep][data]") {
  HS_REQUIRE_GLUE(glue);
  const hs::data::TaskSpec& task = hs::data::find_task("stsb");
  const hs::data::Dataset all = hs::data::load_split(task, glue, "dev", 0);
  CATCH_REQUIRE(all.examples.size() == 1500);

  const auto first = hs::sweep::load_rows(task, glue, "dev", 100, "first", 7);
  CATCH_REQUIRE(first.examples.size() == 100);
  CATCH_CHECK(first.examples.back().row == 99);

  const auto a = hs::sweep::load_rows(task, glue, "dev", 100, "random", 7);
  const auto b = hs::sweep::load_rows(task, glue, "dev", 100, "random", 7);
  const auto c = hs::sweep::load_rows(task, glue, "dev", 100, "random", 8);
  const std::vector<int64_t> ra = rows_of(a);
  CATCH_REQUIRE(ra.size() == 100);
  CATCH_CHECK(std::is_sorted(ra.begin(), ra.end()));
  CATCH_CHECK(std::set<int64_t>(ra.begin(), ra.end()).size() == 100);  // without replacement
  CATCH_CHECK(ra == rows_of(b));                                        // the seed decides
  CATCH_CHECK(ra != rows_of(c));
  // Each kept example is the file's row, text and label unchanged.
  for (const auto& ex : a.examples) {
    const auto& want = all.examples[static_cast<size_t>(ex.row)];
    CATCH_CHECK(ex.text_a == want.text_a);
    CATCH_CHECK(ex.text_b == want.text_b);
    CATCH_CHECK(ex.label == want.label);
    CATCH_CHECK(ex.line == want.line);
  }
  // STS-B dev opens with 625 caption pairs: a draw reaches past them, the first rows do not.
  const auto past_captions = std::count_if(ra.begin(), ra.end(), [](int64_t r) { return r >= 625; });
  CATCH_CHECK(past_captions > 30);
  // Uniform: over many seeds every decile of the file is drawn about equally often (each seed puts
  // 100 of 1500 rows in, so 10 per decile on average; 200 seeds: 2,000 per decile, sd ~ 42).
  std::vector<int> per_decile(10, 0);
  for (uint64_t seed = 0; seed < 200; ++seed) {
    for (int64_t r : rows_of(hs::sweep::load_rows(task, glue, "dev", 100, "random", seed))) ++per_decile[r / 150];
  }
  for (int n : per_decile) CATCH_CHECK(std::abs(n - 2000) < 250);  // ~6 sd

  // A limit of 0, or one past the file's rows, keeps every row.
  CATCH_CHECK(rows_of(hs::sweep::load_rows(task, glue, "dev", 0, "random", 7)) == rows_of(all));
  CATCH_CHECK(rows_of(hs::sweep::load_rows(task, glue, "dev", 5000, "random", 7)) == rows_of(all));
  CATCH_CHECK_THROWS_AS(hs::sweep::load_rows(task, glue, "dev", 10, "last", 7), std::invalid_argument);
}
