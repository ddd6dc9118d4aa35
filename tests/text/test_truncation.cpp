#include <numeric>

#include <catch2/catch.hpp>

#include "text/truncation.h"

using hs::text::truncate_longest_first;

namespace {

std::vector<int32_t> iota_ids(size_t n, int32_t first) {
  std::vector<int32_t> v(n);
  std::iota(v.begin(), v.end(), first);
  return v;
}

}  // namespace

CATCH_TEST_CASE("longest_first equals dropping one id at a time from the longer side, b on ties", "[text]") {
  // The definition transformers 4.x's closed form replaced: remove from the end of the longer
  // sequence, one id at a time; when both are as long, remove from the second.
  for (size_t la = 0; la <= 9; ++la) {
    for (size_t lb = 0; lb <= 9; ++lb) {
      for (size_t k = 1; k <= la + lb; ++k) {
        std::vector<int32_t> a = iota_ids(la, 0), b = iota_ids(lb, 100);
        std::vector<int32_t> ra = a, rb = b;
        for (size_t i = 0; i < k; ++i) (ra.size() > rb.size() ? ra : rb).pop_back();
        truncate_longest_first(a, &b, k);
        CATCH_INFO("len_a " << la << " len_b " << lb << " remove " << k);
        CATCH_CHECK(a == ra);
        CATCH_CHECK(b == rb);
      }
    }
  }
}

CATCH_TEST_CASE("longest_first cuts pairs at the right end", "[text]") {
  std::vector<int32_t> a = {1, 2, 3, 4, 5, 6}, b = {7, 8, 9};
  truncate_longest_first(a, &b, 5);  // 3 from a to even up, then b, a
  CATCH_CHECK(a == std::vector<int32_t>{1, 2});
  CATCH_CHECK(b == std::vector<int32_t>{7, 8});
}

CATCH_TEST_CASE("a single sequence loses its tail, unless it is too short to lose that much", "[text]") {
  std::vector<int32_t> a = {1, 2, 3, 4};
  truncate_longest_first(a, nullptr, 0);
  CATCH_CHECK(a.size() == 4);
  truncate_longest_first(a, nullptr, 3);
  CATCH_CHECK(a == std::vector<int32_t>{1});
  // transformers logs an error and returns the ids unchanged here.
  truncate_longest_first(a, nullptr, 1);
  CATCH_CHECK(a == std::vector<int32_t>{1});
}
