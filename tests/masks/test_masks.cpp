// Mask strategies and MaskSet bookkeeping. The executor trusts these sets blindly, so the counts,
// order and names are checked exactly: a missing or repeated head would silently bias a sweep.
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "masks/mask_set.h"
#include "masks/strategies.h"
#include "test_env.h"
#include "util/error.h"

using hs::masks::MaskSet;
using hs::masks::make_masks;
using Catch::Matchers::Contains;

namespace {

// Heads switched off in mask n, as (layer, head).
std::vector<std::pair<int, int>> removed(const MaskSet& s, int64_t n) {
  std::vector<std::pair<int, int>> out;
  for (int l = 0; l < s.n_layers(); ++l) {
    for (int h = 0; h < s.n_heads(); ++h) {
      if (!s.kept(n, l, h)) out.emplace_back(l, h);
    }
  }
  return out;
}

}  // namespace

CATCH_TEST_CASE("head_name prints L{l}.H{h}", "[masks]") {
  CATCH_CHECK(hs::masks::head_name(0, 0) == "L0.H0");
  CATCH_CHECK(hs::masks::head_name(5, 11) == "L5.H11");
  CATCH_CHECK(hs::masks::head_name(11, 3) == "L11.H3");
}

CATCH_TEST_CASE("baseline strategy: one all-ones mask", "[masks]") {
  const MaskSet s = make_masks("baseline", 6, 12);
  CATCH_REQUIRE(s.size() == 1);
  CATCH_CHECK(s.n_layers() == 6);
  CATCH_CHECK(s.n_heads() == 12);
  CATCH_CHECK(s.names() == std::vector<std::string>{"baseline"});
  CATCH_CHECK(s.heads_kept(0) == 72);
  CATCH_CHECK(s.data() == std::vector<uint8_t>(72, 1));
}

CATCH_TEST_CASE("single-head strategy: baseline, then every head removed exactly once", "[masks]") {
  // Non-square on purpose, so a layer/head transposition in the (L, H) layout shows.
  const int L = 3, H = 5;
  const MaskSet s = make_masks("single-head", L, H);
  CATCH_REQUIRE(s.size() == 1 + L * H);
  CATCH_REQUIRE(s.data().size() == static_cast<size_t>((1 + L * H) * L * H));
  CATCH_CHECK(s.names()[0] == "baseline");
  CATCH_CHECK(s.heads_kept(0) == L * H);
  CATCH_CHECK(removed(s, 0).empty());

  std::set<std::pair<int, int>> seen;
  for (int64_t n = 1; n < s.size(); ++n) {
    CATCH_INFO("mask " << n << " " << s.names()[n]);
    const auto r = removed(s, n);
    CATCH_REQUIRE(r.size() == 1);
    CATCH_CHECK(s.heads_kept(n) == L * H - 1);
    const auto [l, h] = r[0];
    CATCH_CHECK(s.names()[n] == fmt::format("-L{}.H{}", l, h));
    CATCH_CHECK(s.names()[n] == "-" + hs::masks::head_name(l, h));
    // Row-major (L, H): the flat index of the removed head is l * H + h.
    CATCH_CHECK(s.mask(n)[l * H + h] == 0);
    CATCH_CHECK(seen.insert(r[0]).second);
  }
  CATCH_CHECK(seen.size() == static_cast<size_t>(L * H));
  // Layer-major order: results files list heads as L0.H0, L0.H1, ...
  CATCH_CHECK(s.names()[1] == "-L0.H0");
  CATCH_CHECK(s.names()[2] == "-L0.H1");
  CATCH_CHECK(s.names()[H + 1] == "-L1.H0");
  CATCH_CHECK(s.names().back() == fmt::format("-L{}.H{}", L - 1, H - 1));

  // The real checkpoint's shape.
  CATCH_CHECK(make_masks("single-head", 6, 12).size() == 73);
}

CATCH_TEST_CASE("layer strategy: baseline, then each layer's heads all removed", "[masks]") {
  const int L = 4, H = 3;
  const MaskSet s = make_masks("layer", L, H);
  CATCH_REQUIRE(s.size() == 1 + L);
  CATCH_CHECK(s.names()[0] == "baseline");
  CATCH_CHECK(s.heads_kept(0) == L * H);
  for (int l = 0; l < L; ++l) {
    const int64_t n = 1 + l;
    CATCH_INFO("mask " << n);
    CATCH_CHECK(s.names()[n] == fmt::format("-L{}", l));
    CATCH_CHECK(s.heads_kept(n) == (L - 1) * H);
    for (int ll = 0; ll < L; ++ll) {
      for (int h = 0; h < H; ++h) CATCH_CHECK(s.kept(n, ll, h) == (ll != l));
    }
  }
}

CATCH_TEST_CASE("unknown strategy is an InputError naming it", "[masks]") {
  CATCH_REQUIRE_THROWS_AS(make_masks("single_head", 6, 12), hs::InputError);
  CATCH_REQUIRE_THROWS_WITH(make_masks("heads", 6, 12),
                            "unknown sweep strategy 'heads' (known: baseline, single-head, layer, "
                            "leave-one-in, random, exhaustive-layer, file)");
  CATCH_REQUIRE_THROWS_AS(make_masks("", 6, 12), hs::InputError);
  // Strategies with parameters need the options, not just their name.
  CATCH_REQUIRE_THROWS_WITH(make_masks("random", 6, 12),
                            Contains("sweep strategy 'random' needs its sweep options"));
}

CATCH_TEST_CASE("every listed strategy is buildable", "[masks]") {
  const auto& all = hs::masks::strategies();
  CATCH_REQUIRE(all.size() == 7);
  for (const auto& info : all) {
    CATCH_INFO(info.name);
    CATCH_CHECK(!info.help.empty());
    CATCH_CHECK(hs::masks::find_strategy(info.name) == &info);
    hs::io::SweepOptions opts;
    opts.strategies = {info.name};
    opts.sparsities = {0.5};
    opts.samples = 2;
    opts.layer = 1;
    opts.path = hs::test::source_dir() + "/tests/masks/fixtures/u1_nlh.npy";
    const MaskSet s = make_masks(opts, 2, 3);
    CATCH_CHECK(s.size() >= 1);
    CATCH_CHECK(s.names()[0] == "baseline");
    if (!info.takes_options) CATCH_CHECK(make_masks(info.name, 2, 3).names() == s.names());
  }
  CATCH_CHECK(hs::masks::find_strategy("single_head") == nullptr);
}

CATCH_TEST_CASE("MaskSet::add deduplicates identical masks", "[masks]") {
  MaskSet s(2, 3);
  const std::vector<uint8_t> full(6, 1);
  std::vector<uint8_t> a = full;
  a[4] = 0;  // L1.H1 off
  CATCH_CHECK(s.add(full, "baseline") == 0);
  CATCH_CHECK(s.add(a, "-L1.H1") == 1);
  // The same pattern under another name scores once: the existing index, the first name kept.
  CATCH_CHECK(s.add(a, "again") == 1);
  CATCH_CHECK(s.add(full, "baseline-2") == 0);
  CATCH_CHECK(s.size() == 2);
  CATCH_CHECK(s.data().size() == 12);
  CATCH_CHECK(s.names() == std::vector<std::string>{"baseline", "-L1.H1"});
  CATCH_CHECK(!s.kept(1, 1, 1));
  CATCH_CHECK(s.kept(1, 0, 1));
  CATCH_CHECK(s.heads_kept(1) == 5);

  // Any nonzero byte keeps a head, but dedup compares bytes, so only an identical pattern merges.
  std::vector<uint8_t> b(6, 0);
  CATCH_CHECK(s.add(b, "none") == 2);
  CATCH_CHECK(s.heads_kept(2) == 0);
  CATCH_CHECK(s.size() == 3);

  // One strategy's patterns added twice do not grow the set.
  const MaskSet layer = make_masks("layer", 2, 3);
  for (int64_t n = 0; n < layer.size(); ++n) {
    std::vector<uint8_t> m(layer.mask(n), layer.mask(n) + 6);
    s.add(m, layer.names()[n]);
  }
  CATCH_CHECK(s.size() == 5);  // baseline already present; -L0 and -L1 are new
  const int64_t before = s.size();
  for (int64_t n = 0; n < layer.size(); ++n) {
    std::vector<uint8_t> m(layer.mask(n), layer.mask(n) + 6);
    CATCH_CHECK(s.add(m, "dup") < before);
  }
  CATCH_CHECK(s.size() == before);
}

CATCH_TEST_CASE("MaskSet::add rejects a mask of the wrong size", "[masks]") {
  MaskSet s(2, 3);
  CATCH_REQUIRE_THROWS_AS(s.add(std::vector<uint8_t>(5, 1), "short"), std::invalid_argument);
  CATCH_REQUIRE_THROWS_WITH(s.add(std::vector<uint8_t>(7, 1), "long"),
                            Contains("mask long has 7 entries, expected 6"));
  CATCH_CHECK(s.size() == 0);
}
