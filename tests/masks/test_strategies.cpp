// leave-one-in, exhaustive-layer, lists of strategies (the union), and the config's view of the
// strategies. Counts and patterns are checked exactly, on non-square shapes so that a layer/head
// transposition shows.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "io/options.h"
#include "io/plan.h"
#include "masks/mask_set.h"
#include "masks/strategies.h"
#include "util/error.h"

using hs::masks::MaskSet;
using hs::masks::make_masks;
using Catch::Matchers::Contains;

namespace {

hs::io::SweepOptions options(std::vector<std::string> strategies) {
  hs::io::SweepOptions o;
  o.strategies = std::move(strategies);
  o.sparsities = {0.5};
  o.samples = 3;
  return o;
}

std::vector<uint8_t> bytes(const MaskSet& s, int64_t n) {
  return {s.mask(n), s.mask(n) + s.n_layers() * s.n_heads()};
}

}  // namespace

CATCH_TEST_CASE("removed_name names a mask by what it removes", "[masks]") {
  const int L = 3, H = 4;
  std::vector<uint8_t> m(L * H, 1);
  CATCH_CHECK(hs::masks::removed_name(m.data(), L, H) == "baseline");
  m[1 * H + 2] = 0;
  CATCH_CHECK(hs::masks::removed_name(m.data(), L, H) == "-L1.H2");
  m[0 * H + 3] = 0;
  CATCH_CHECK(hs::masks::removed_name(m.data(), L, H) == "-L0.H3-L1.H2");
  std::fill(m.begin() + 2 * H, m.end(), 0);
  CATCH_CHECK(hs::masks::removed_name(m.data(), L, H) == "-L0.H3-L1.H2-L2");
}

CATCH_TEST_CASE("leave-one-in: baseline, then each head alone in its layer", "[masks]") {
  const int L = 3, H = 4;
  const MaskSet s = make_masks("leave-one-in", L, H);
  CATCH_REQUIRE(s.size() == 1 + L * H);
  CATCH_CHECK(s.names()[0] == "baseline");
  for (int l = 0; l < L; ++l) {
    for (int h = 0; h < H; ++h) {
      const int64_t n = 1 + l * H + h;
      CATCH_INFO("mask " << n << " " << s.names()[n]);
      CATCH_CHECK(s.names()[n] == fmt::format("L{}.H{}-only", l, h));
      CATCH_CHECK(s.heads_kept(n) == (L - 1) * H + 1);
      for (int ll = 0; ll < L; ++ll)
        for (int hh = 0; hh < H; ++hh) CATCH_CHECK(s.kept(n, ll, hh) == (ll != l || hh == h));
    }
  }
  CATCH_CHECK(make_masks("leave-one-in", 12, 12).size() == 145);
  // With one head per layer, keeping it alone is the baseline: nothing new to score.
  CATCH_CHECK(make_masks("leave-one-in", 4, 1).size() == 1);
}

CATCH_TEST_CASE("exhaustive-layer: all 2^H subsets of one layer, distinct", "[masks]") {
  const int L = 3, H = 4;
  hs::io::SweepOptions o = options({"exhaustive-layer"});
  o.layer = 2;
  const MaskSet s = make_masks(o, L, H);
  CATCH_REQUIRE(s.size() == 16);
  CATCH_CHECK(s.names()[0] == "baseline");
  std::set<std::vector<uint8_t>> seen;
  for (int64_t n = 0; n < s.size(); ++n) {
    CATCH_INFO("mask " << n << " " << s.names()[n]);
    CATCH_CHECK(seen.insert(bytes(s, n)).second);
    // Other layers full; bit h of n is head h of layer 2 removed.
    for (int l = 0; l < 2; ++l)
      for (int h = 0; h < H; ++h) CATCH_CHECK(s.kept(n, l, h));
    for (int h = 0; h < H; ++h) CATCH_CHECK(s.kept(n, 2, h) == ((n >> h & 1) == 0));
    CATCH_CHECK(s.names()[n] == hs::masks::removed_name(s.mask(n), L, H));
  }
  CATCH_CHECK(s.names()[1] == "-L2.H0");
  CATCH_CHECK(s.names()[6] == "-L2.H1-L2.H2");
  CATCH_CHECK(s.names()[15] == "-L2");  // the whole layer, named as the layer strategy names it

  o.layer = 0;
  CATCH_CHECK(make_masks(o, 1, 16).size() == 65536);
}

CATCH_TEST_CASE("exhaustive-layer: errors", "[masks][errors]") {
  hs::io::SweepOptions o = options({"exhaustive-layer"});
  o.layer = 6;
  CATCH_REQUIRE_THROWS_AS(make_masks(o, 6, 12), hs::InputError);
  CATCH_REQUIRE_THROWS_WITH(make_masks(o, 6, 12), "sweep.layer: 6, but the model has 6 layers (0 to 5)");
  // Where the config set the option, when known.
  hs::io::OptionWhere where;
  where.set("sweep.layer", "sweep.yaml:9:10");
  CATCH_REQUIRE_THROWS_WITH(make_masks(o, 6, 12, where), "sweep.yaml:9:10: sweep.layer: 6, but the model has 6 layers (0 to 5)");
  o.layer = -1;
  CATCH_REQUIRE_THROWS_WITH(make_masks(o, 6, 12), "sweep.layer: -1, but the model has 6 layers (0 to 5)");
  o.layer = 0;
  CATCH_REQUIRE_THROWS_WITH(make_masks(o, 24, 17),
                            "sweep.strategy: exhaustive-layer: the model has H = 17 heads per layer, "
                            "which makes 2^17 masks; at most 16 heads (65536 masks) are supported");
}

CATCH_TEST_CASE("a list of strategies is their union: the baseline once, each mask once", "[masks]") {
  const int L = 3, H = 4;
  const MaskSet single = make_masks("single-head", L, H);
  const MaskSet layer = make_masks("layer", L, H);
  const MaskSet both = make_masks(options({"single-head", "layer"}), L, H);
  CATCH_REQUIRE(both.size() == 1 + L * H + L);
  CATCH_CHECK(std::count(both.names().begin(), both.names().end(), "baseline") == 1);
  CATCH_CHECK(both.names()[0] == "baseline");
  // In list order: single-head's masks, then layer's.
  for (int64_t n = 0; n < single.size(); ++n) CATCH_CHECK(both.names()[n] == single.names()[n]);
  for (int64_t n = 1; n < layer.size(); ++n) CATCH_CHECK(both.names()[single.size() + n - 1] == layer.names()[n]);

  // Overlaps score once under the first emitter's name: with one head per layer, -L{l}.H0 is -L{l}.
  const MaskSet overlap = make_masks(options({"single-head", "layer", "baseline"}), 3, 1);
  CATCH_CHECK(overlap.names() == std::vector<std::string>{"baseline", "-L0.H0", "-L1.H0", "-L2.H0"});
  const MaskSet reversed = make_masks(options({"layer", "single-head"}), 3, 1);
  CATCH_CHECK(reversed.names() == std::vector<std::string>{"baseline", "-L0", "-L1", "-L2"});

  // exhaustive-layer contains every single-head mask of its layer, and the layer mask.
  hs::io::SweepOptions ex = options({"single-head", "exhaustive-layer", "layer"});
  ex.layer = 1;
  const MaskSet u = make_masks(ex, L, H);
  CATCH_CHECK(u.size() == 1 + L * H + (16 - 1 - H) + (L - 1));
  std::set<std::vector<uint8_t>> distinct;
  for (int64_t n = 0; n < u.size(); ++n) CATCH_CHECK(distinct.insert(bytes(u, n)).second);

  // Random masks join the union too.
  const MaskSet r = make_masks(options({"single-head", "random"}), L, H);
  CATCH_CHECK(r.size() == 1 + L * H + 3);
  CATCH_CHECK(r.names().back().rfind("random-s0.50-#", 0) == 0);
}

CATCH_TEST_CASE("make_masks(options): strategy errors", "[masks][errors]") {
  CATCH_REQUIRE_THROWS_WITH(make_masks(options({}), 2, 3), "sweep.strategy: no strategy given");
  // Every name is checked before any work.
  CATCH_REQUIRE_THROWS_WITH(make_masks(options({"single-head", "layers"}), 2, 3),
                            Contains("unknown sweep strategy 'layers'"));
  hs::io::SweepOptions f = options({"file"});
  f.path = "/nonexistent/masks.txt";
  CATCH_REQUIRE_THROWS_WITH(make_masks(f, 2, 3), "sweep.path: \"/nonexistent/masks.txt\" does not exist");
}

CATCH_TEST_CASE("the config's strategy names are exactly the strategies", "[masks][options]") {
  std::vector<std::string> names;
  for (const auto& s : hs::masks::strategies()) names.push_back(s.name);
  const hs::io::OptionSpec* strategy = nullptr;
  for (const auto& o : hs::io::plan_options())
    if (o.key() == "sweep.strategy") strategy = &o;
  CATCH_REQUIRE(strategy != nullptr);
  CATCH_CHECK(strategy->type == hs::io::OptionType::StringList);
  CATCH_CHECK(strategy->choices == names);
  // Every used_when on sweep.strategy names real strategies, and only those that take options
  // have parameters.
  std::set<std::string> with_params;
  for (const auto& o : hs::io::plan_options()) {
    if (!o.used_when || o.used_when->key != "sweep.strategy") continue;
    for (const auto& v : o.used_when->values) {
      CATCH_CAPTURE(o.key(), v);
      const auto* s = hs::masks::find_strategy(v);
      CATCH_REQUIRE(s != nullptr);
      CATCH_CHECK(s->takes_options);
      with_params.insert(v);
    }
  }
  for (const auto& s : hs::masks::strategies()) CATCH_CHECK(with_params.count(s.name) == (s.takes_options ? 1u : 0u));
}
