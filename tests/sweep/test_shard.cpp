// Shards: --shard and SLURM parsing, which masks each shard owns, and merging shard files (every
// error names the files).
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

#include <catch2/catch.hpp>

#include "io/results.h"
#include "io/results_file.h"
#include "sweep/shard.h"
#include "util/error.h"
#include "results_header.h"
#include "temp_dir.h"

using namespace hs::sweep;
namespace fs = std::filesystem;

using hs::test::TempDir;

namespace {

GetEnv env(std::map<std::string, std::string> vars) {
  auto owned = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [owned](const char* name) -> const char* {
    const auto it = owned->find(name);
    return it == owned->end() ? nullptr : it->second.c_str();
  };
}

// (N, L, H) gates of the single-head strategy: baseline, then each head removed alone.
std::vector<uint8_t> single_head(int L, int H) {
  std::vector<uint8_t> out(static_cast<size_t>(L * H), 1);
  for (int g = 0; g < L * H; ++g) {
    std::vector<uint8_t> m(static_cast<size_t>(L * H), 1);
    m[g] = 0;
    out.insert(out.end(), m.begin(), m.end());
  }
  return out;
}

// A sweep over a 2 x 3 encoder (7 single-head masks) with 4 examples; mask n's results are a function of n.
struct Sweep {
  hs::io::ResultsHeader header;
  std::vector<uint8_t> masks = single_head(2, 3);
  std::vector<std::string> names = {"baseline", "-L0.H0", "-L0.H1", "-L0.H2", "-L1.H0", "-L1.H1", "-L1.H2"};
  std::vector<double> labels = {0, 1, 2, 1};
  std::vector<int64_t> rows = {0, 1, 2, 3};
  Sweep() {
    header = hs::test::tiny_results_header("task:\n  limit: 4\noutput:\n  path: r.h5\n", {"accuracy", "f1"});
  }
  static std::map<std::string, double> scores(int64_t n) { return {{"accuracy", 0.9 - 0.01 * n}, {"f1", 0.1 * n}}; }
  static std::vector<float> predictions(int64_t n) {
    return {static_cast<float>(n), static_cast<float>(n % 3), 0.5f, static_cast<float>(-n)};
  }
  // A file that scored `which` (as shard `index` of `count` when count > 0), finished.
  std::string write(const std::string& path, const std::vector<int64_t>& which, int index = 0, int count = 0) const {
    hs::io::ResultsHeader h = header;
    h.shard_index = index;
    h.shard_count = count;
    hs::io::WriterOptions o;
    o.rows_to_write = which;
    hs::io::ResultsWriter w = hs::io::ResultsWriter::create(path, h, masks, names, labels, rows, o);
    for (int64_t n : which) w.write_mask(n, scores(n), predictions(n));
    w.finish();
    return path;
  }
};

}  // namespace

CATCH_TEST_CASE("parse_shard reads the --shard flag, INDEX/COUNT", "[sweep][shard]") {
  const Shard s = parse_shard("2/5");
  CATCH_CHECK(s.index == 2);
  CATCH_CHECK(s.count == 5);
  CATCH_CHECK(s.sharded());
  CATCH_CHECK_FALSE(parse_shard("0/1").sharded());
  CATCH_CHECK(s.source == "--shard 2/5");
  CATCH_REQUIRE_THROWS_WITH(parse_shard("3/3"), "--shard 3/3: shards count from 0, so INDEX must be 0 to 2");
  for (const char* bad : {"1", "a/3", "1/0", "-1/3", "1/", "/3", "1/3/4", " 1/3"}) {
    CATCH_CAPTURE(bad);
    CATCH_REQUIRE_THROWS_AS(parse_shard(bad), hs::InputError);
  }
  CATCH_REQUIRE_THROWS_WITH(parse_shard("x"), "--shard x: expected INDEX/COUNT with COUNT at least 1, e.g. --shard 0/4");
}

CATCH_TEST_CASE("SLURM array variables pick the shard", "[sweep][shard]") {
  CATCH_CHECK_FALSE(shard_from_env(env({})).has_value());
  const auto zero_based = shard_from_env(env({{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_COUNT", "8"}}));
  CATCH_REQUIRE(zero_based);
  CATCH_CHECK((zero_based->index == 3 && zero_based->count == 8));
  CATCH_CHECK(zero_based->source == "SLURM_ARRAY_TASK_ID=3, SLURM_ARRAY_TASK_COUNT=8");
  // --array=1-8: IDs start at SLURM_ARRAY_TASK_MIN.
  const auto one_based = shard_from_env(
      env({{"SLURM_ARRAY_TASK_ID", "8"}, {"SLURM_ARRAY_TASK_COUNT", "8"}, {"SLURM_ARRAY_TASK_MIN", "1"}}));
  CATCH_CHECK((one_based->index == 7 && one_based->count == 8));
  // --array=10-40:10
  const auto stepped = shard_from_env(env({{"SLURM_ARRAY_TASK_ID", "30"},
                                           {"SLURM_ARRAY_TASK_COUNT", "4"},
                                           {"SLURM_ARRAY_TASK_MIN", "10"},
                                           {"SLURM_ARRAY_TASK_STEP", "10"}}));
  CATCH_CHECK((stepped->index == 2 && stepped->count == 4));
  // --array=1-8 without the MIN variable would give index 8 of 8.
  CATCH_REQUIRE_THROWS_WITH(
      shard_from_env(env({{"SLURM_ARRAY_TASK_ID", "8"}, {"SLURM_ARRAY_TASK_COUNT", "8"}})),
      "SLURM_ARRAY_TASK_ID=8, SLURM_ARRAY_TASK_COUNT=8: not a task of a contiguous array of 8 tasks (index out of "
      "range); use e.g. --array=0-7 or pass --shard INDEX/COUNT");
  // sbatch --array=5 on its own: SLURM counts 1 task; "shard 0 of 1" would be the whole sweep.
  CATCH_REQUIRE_THROWS_WITH(
      shard_from_env(env({{"SLURM_ARRAY_TASK_ID", "5"}, {"SLURM_ARRAY_TASK_COUNT", "1"}, {"SLURM_ARRAY_TASK_MIN", "5"}})),
      "SLURM_ARRAY_TASK_ID=5, SLURM_ARRAY_TASK_COUNT=1, SLURM_ARRAY_TASK_MIN=5: an array of one task does not say "
      "which of how many shards this is (a task submitted again on its own, e.g. --array=5, counts 1); pass --shard "
      "INDEX/COUNT");
  CATCH_REQUIRE_THROWS_AS(shard_from_env(env({{"SLURM_ARRAY_TASK_ID", "1"}})), hs::InputError);
  CATCH_REQUIRE_THROWS_AS(shard_from_env(env({{"SLURM_ARRAY_TASK_ID", "x"}, {"SLURM_ARRAY_TASK_COUNT", "2"}})),
                          hs::InputError);
}

CATCH_TEST_CASE("a shard's file name", "[sweep][shard]") {
  CATCH_CHECK(shard_path("results/x.h5", {1, 3, ""}) == "results/x.shard-1-of-3.h5");
  CATCH_CHECK(shard_path("x.h5", {0, 12, ""}) == "x.shard-0-of-12.h5");
  CATCH_CHECK(shard_path("/a.b/results", {2, 4, ""}) == "/a.b/results.shard-2-of-4");
}

CATCH_TEST_CASE("trie order is lexicographic over layers", "[sweep][shard]") {
  // 2 x 2 masks: 11|11, 01|11, 11|10, 10|11, 01|10
  const std::vector<uint8_t> m = {1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 0, 1, 1, 0};
  CATCH_CHECK(trie_sorted(m, 2, 2) == std::vector<int64_t>{4, 1, 3, 2, 0});
}

CATCH_TEST_CASE("shards own disjoint, contiguous trie ranges that cover every mask", "[sweep][shard]") {
  for (auto [L, H] : {std::pair{6, 12}, std::pair{12, 12}, std::pair{2, 3}}) {
    const std::vector<uint8_t> masks = single_head(L, H);
    const int64_t N = 1 + L * H;
    const std::vector<int64_t> order = trie_sorted(masks, L, H);
    for (int count : {1, 2, 3, 5, 7, 16, 100}) {
      CATCH_CAPTURE(L, H, count);
      const std::vector<int> owner = shard_owners(masks, L, H, count);
      CATCH_REQUIRE(static_cast<int64_t>(owner.size()) == N);
      // Contiguous and in shard order along the trie order.
      for (int64_t p = 1; p < N; ++p) CATCH_CHECK(owner[order[p]] >= owner[order[p - 1]]);
      std::vector<int64_t> sizes(count, 0);
      for (int o : owner) ++sizes.at(o);
      std::set<int64_t> covered;
      for (int k = 0; k < count; ++k) {
        const auto mine = shard_masks(masks, L, H, {k, count, ""});
        CATCH_CHECK(static_cast<int64_t>(mine.size()) == sizes[k]);
        covered.insert(mine.begin(), mine.end());
        if (N >= count) CATCH_CHECK(sizes[k] > 0);
        if (N < count) CATCH_CHECK(sizes[k] <= 1);
        // Near the even share: within N/(8·count) of each even cut.
        CATCH_CHECK(std::abs(static_cast<double>(sizes[k]) - static_cast<double>(N) / count) <=
                    2.0 * (N / (8 * count)) + 1.0);
      }
      CATCH_CHECK(static_cast<int64_t>(covered.size()) == N);
      // Deterministic.
      CATCH_CHECK(shard_owners(masks, L, H, count) == owner);
    }
  }
}

CATCH_TEST_CASE("with fewer masks than shards, the empty shards fall where the even cuts coincide",
                "[sweep][shard]") {
  // docs/cluster.md's example: the 7 masks of the layer strategy on 6 layers, in 10 shards. The even
  // cuts k·7/10 round to 0 1 1 2 3 4 4 5 6 6 7, so shards 1, 5 and 8 own nothing.
  std::vector<uint8_t> masks(7 * 6 * 2, 1);
  for (int l = 0; l < 6; ++l) masks[(1 + l) * 12 + l * 2] = masks[(1 + l) * 12 + l * 2 + 1] = 0;
  const std::vector<int> owner = shard_owners(masks, 6, 2, 10);
  std::set<int> owning(owner.begin(), owner.end());
  CATCH_CHECK(owning == std::set<int>{0, 2, 3, 4, 6, 7, 9});
}

CATCH_TEST_CASE("cuts move to the shallowest branch near the even split", "[sweep][shard]") {
  // BERT-base single-head: 145 masks. In trie order the 12 masks of layer 0 come first (they differ
  // from everything else at layer 0), then layer 1's, ... then the baseline. Into 12 shards the
  // first even cut falls at 12.08: position 12, after the layer-0 group, is at depth 0 and closest.
  const std::vector<uint8_t> masks = single_head(12, 12);
  const std::vector<int> owner = shard_owners(masks, 12, 12, 12);
  const auto shard0 = shard_masks(masks, 12, 12, {0, 12, ""});
  CATCH_CHECK(shard0 == std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});  // -L0.H0 .. -L0.H11
  // 20 masks over 4 layers x 1 head, where masks 0-9 start with 0 and 10-19 with 1 (some repeat),
  // split in 2: the even cut at 10 is also the depth-0 branch.
  std::vector<uint8_t> m;
  for (int n = 0; n < 20; ++n) {
    m.push_back(n < 10 ? 0 : 1);
    for (int l = 1; l < 4; ++l) m.push_back(static_cast<uint8_t>((n >> (l - 1)) & 1));
  }
  const std::vector<int> two = shard_owners(m, 4, 1, 2);
  for (int n = 0; n < 20; ++n) CATCH_CHECK(two[n] == (n < 10 ? 0 : 1));
  // 41 masks with a depth-0 branch at 22 and an even cut at 20.5 (window 41/16 = 2): the cut moves to 22.
  std::vector<uint8_t> big;
  for (int n = 0; n < 41; ++n) {
    big.push_back(n < 22 ? 0 : 1);
    for (int l = 1; l < 8; ++l) big.push_back(static_cast<uint8_t>((n >> (l - 1)) & 1));
  }
  const std::vector<int> cut = shard_owners(big, 8, 1, 2);
  for (int n = 0; n < 41; ++n) CATCH_CHECK(cut[n] == (n < 22 ? 0 : 1));
}

CATCH_TEST_CASE("merge joins shards into the unsharded file", "[sweep][shard][merge]") {
  TempDir dir;
  const Sweep s;
  const std::string a = s.write(dir.file("a.h5"), {0, 1, 2}, 0, 3), b = s.write(dir.file("b.h5"), {3, 4}, 1, 3),
                    c = s.write(dir.file("c.h5"), {5, 6}, 2, 3);
  const MergeResult r = merge_results(dir.file("m.h5"), {a, b, c}, false);
  CATCH_CHECK(r.mask_names == s.names);
  CATCH_CHECK(r.scores[4] == Sweep::scores(4));
  const hs::io::ResultsFile f = hs::io::ResultsFile::open(dir.file("m.h5"));
  CATCH_CHECK(f.info().complete);
  CATCH_CHECK(f.info().header.shard_count == 0);
  CATCH_CHECK(f.info().header.merged_from == std::vector<std::string>{"a.h5", "b.h5", "c.h5"});
  CATCH_CHECK(f.info().header.config_yaml == s.header.config_yaml);
  CATCH_CHECK(f.masks() == s.masks);
  CATCH_CHECK(f.masks_done() == std::vector<uint8_t>(7, 1));
  CATCH_CHECK(f.labels() == s.labels);
  CATCH_CHECK(f.rows() == s.rows);
  for (int64_t n = 0; n < 7; ++n) {
    CATCH_CHECK(f.predictions(n) == Sweep::predictions(n));
    CATCH_CHECK(f.scores("accuracy")[n] == Sweep::scores(n).at("accuracy"));
    CATCH_CHECK(f.scores("f1")[n] == Sweep::scores(n).at("f1"));
  }
  // The output exists now: replacing it needs overwrite. Nothing is left beside it.
  CATCH_REQUIRE_THROWS_WITH(merge_results(dir.file("m.h5"), {a, b, c}, false),
                            dir.file("m.h5") + " exists (pass --overwrite to replace it)");
  CATCH_CHECK_NOTHROW(merge_results(dir.file("m.h5"), {c, a, b}, true));
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) entries += 1;
  CATCH_CHECK(entries == 4);
  // An output that cannot be looked at is named with the reason, not taken for a new file.
  fs::create_symlink(dir.file("loop.h5"), dir.file("loop.h5"));
  CATCH_REQUIRE_THROWS_WITH(merge_results(dir.file("loop.h5"), {a, b, c}, true),
                            dir.file("loop.h5") + ": cannot access it (Too many levels of symbolic links)");
}

CATCH_TEST_CASE("merge refuses overlaps, gaps and files of other sweeps, naming the files", "[sweep][shard][merge]") {
  TempDir dir;
  Sweep s;
  const std::string a = s.write(dir.file("a.h5"), {0, 1, 2}, 0, 3), b = s.write(dir.file("b.h5"), {3, 4}, 1, 3),
                    c = s.write(dir.file("c.h5"), {5, 6}, 2, 3);
  const std::string out = dir.file("m.h5");
  auto fails_with = [&](const std::vector<std::string>& inputs, const std::string& message) {
    CATCH_REQUIRE_THROWS_WITH(merge_results(out, inputs, false), message);
    CATCH_CHECK_FALSE(fs::exists(out));
  };
  const std::string b2 = s.write(dir.file("b2.h5"), {2, 3, 4});
  fails_with({a, b2, c}, a + " and " + b2 + " both scored mask 2 (-L0.H1); each mask must come from exactly one file");
  const std::string all = s.write(dir.file("all.h5"), {0, 1, 2, 3, 4, 5, 6});
  fails_with({a, b, all}, a + " and " + all +
                              " both scored mask 0 (baseline), and 4 more masks are scored twice; each mask must "
                              "come from exactly one file");
  fails_with({a, c}, "no shard scored masks 3-4 (shard 1 of 3: no file of it was given)");
  const std::string b_partial = s.write(dir.file("b_partial.h5"), {3}, 1, 3);
  fails_with({a, b_partial, c},
             "no shard scored mask 4 (shard 1 of 3: " + b_partial + " is incomplete, rerun its command to resume it)");
  fails_with({a, a, c}, a + " is given twice");
  CATCH_REQUIRE_THROWS_WITH(merge_results(a, {a, b, c}, true), a + ": the output is one of the inputs");

  Sweep other = s;
  other.header.config_yaml = "task:\n  limit: 5\noutput:\n  path: r.h5\n";
  const std::string cfg = other.write(dir.file("cfg.h5"), {3, 4}, 1, 3);
  fails_with({a, cfg, c}, cfg + " was made by a different config (task.limit: 4 in " + a + ", 5 in " + cfg +
                              "); only files of one sweep can be merged");
  // output.path is not part of the sweep's identity: shards may be written anywhere.
  other = s;
  other.header.config_yaml = "task:\n  limit: 4\noutput:\n  path: elsewhere.h5\n";
  const std::string moved = other.write(dir.file("moved.h5"), {3, 4}, 1, 3);
  CATCH_CHECK_NOTHROW(merge_results(out, {a, moved, c}, false));
  fs::remove(out);

  other = s;
  other.header.model_sha256 = std::string(64, 'd');
  const std::string weights = other.write(dir.file("weights.h5"), {3, 4}, 1, 3);
  fails_with({a, weights, c}, weights + " was made with different weights (model_sha256 aaaaaaaaaaaa… in " + a +
                                  ", dddddddddddd… in " + weights + "); only files of one sweep can be merged");
  other = s;
  std::swap(other.names[1], other.names[2]);
  const std::string names = other.write(dir.file("names.h5"), {3, 4}, 1, 3);
  fails_with({a, names, c}, names + " holds a different mask set (mask 1 is -L0.H0 in " + a + ", -L0.H1 in " + names +
                                "); only files of one sweep can be merged");
  other = s;
  other.labels[2] = 0;
  const std::string labels = other.write(dir.file("labels.h5"), {3, 4}, 1, 3);
  fails_with({a, labels, c}, labels + " holds different examples (example 2 is row 2 with label 2 in " + a +
                                 ", row 2 with label 0 in " + labels + "); only files of one sweep can be merged");
  fails_with({a, dir.file("none.h5"), c}, dir.file("none.h5") + ": no such file");
}
