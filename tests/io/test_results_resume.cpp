// Resuming results files: the config identity, what makes a file part of the same sweep, reopening a
// file, and that a writer killed at any moment (SIGKILL, creation included) leaves a file that opens
// and whose rows marked done are exactly what was written.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <catch2/catch.hpp>
#include <hdf5.h>

#include "io/results.h"
#include "io/results_file.h"
#include "io/results_identity.h"
#include "util/error.h"
#include "results_header.h"
#include "temp_dir.h"

using namespace hs::io;
namespace fs = std::filesystem;

using hs::test::TempDir;

namespace {

const char* kConfig = R"(# headsweep config, resolved: every option, defaults included, environment variables expanded.

model:
  path: /models/tiny
  head: auto
task:
  name: mnli
  data_dir: /glue
  limit: 400
runtime:
  threads: 0
  streams: 2
  seed: 0
  progress: auto
output:
  path: results/a.h5
  overwrite: false
)";

std::string with(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  if (at == std::string::npos) throw std::logic_error("test: no " + from);
  return text.replace(at, from.size(), to);
}

// N masks over 2 layers x 3 heads, B examples, one metric; mask n's row is a function of n.
struct Sweep {
  ResultsHeader header;
  std::vector<uint8_t> masks;
  std::vector<std::string> names;
  std::vector<double> labels;
  std::vector<int64_t> rows;

  explicit Sweep(int n_masks = 6, int n_examples = 5) {
    header = hs::test::tiny_results_header(kConfig);
    for (int n = 0; n < n_masks; ++n) {
      for (int g = 0; g < 6; ++g) masks.push_back(n == 0 || (n - 1) % 6 != g ? 1 : 0);
      names.push_back(n == 0 ? "baseline" : "m" + std::to_string(n));
    }
    for (int b = 0; b < n_examples; ++b) {
      labels.push_back(b % 3);
      rows.push_back(b);
    }
  }
  ResultsWriter create(const std::string& path, WriterOptions o = {}) const {
    return ResultsWriter::create(path, header, masks, names, labels, rows, o);
  }
  SweepIdentity identity() const {
    return SweepIdentity{header.tool_version, header.config_yaml, header.model_sha256, header.inputs_sha256,
                         header.n_layers,          header.n_heads,     header.metrics,      masks,
                         names,                    labels,             rows};
  }
  static std::map<std::string, double> scores(int64_t n) { return {{"accuracy", 0.5 + 0.001 * static_cast<double>(n)}}; }
  std::vector<float> predictions(int64_t n) const {
    std::vector<float> p(labels.size());
    for (size_t b = 0; b < p.size(); ++b) p[b] = static_cast<float>(n) + 0.125f * static_cast<float>(b);
    return p;
  }
};

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// [offset, offset + size) of the raw data HDF5 stores for dataset `name`, element range [first, first + count).
struct Extent {
  haddr_t begin, end;
};
Extent contiguous_extent(hid_t file, const char* name, size_t elem, hsize_t first, hsize_t count) {
  const hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
  const haddr_t off = H5Dget_offset(d);
  H5Dclose(d);
  return {off + first * elem, off + (first + count) * elem};
}
Extent chunk_extent(hid_t file, const char* name, hsize_t row) {
  const hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
  const hsize_t coord[2] = {row, 0};
  unsigned mask = 0;
  haddr_t addr = HADDR_UNDEF;
  hsize_t size = 0;
  H5Dget_chunk_info_by_coord(d, coord, &mask, &addr, &size);
  H5Dclose(d);
  return {addr, addr + size};
}

}  // namespace

CATCH_TEST_CASE("the config identity leaves out only where the file goes and how the run is shown", "[io][resume]") {
  const auto entries = config_entries(kConfig);
  CATCH_CHECK(entries.at("task.limit") == "400");
  CATCH_CHECK(entries.at("output.path") == "results/a.h5");
  CATCH_CHECK(entries.size() == 11);
  CATCH_CHECK(config_keys_ignored() ==
              std::vector<std::string>{"output.path", "output.overwrite", "runtime.threads", "runtime.streams",
                                           "runtime.progress"});

  const std::string base = config_sha256(kConfig);
  CATCH_CHECK(base.size() == 64);
  std::string knobs = with(kConfig, "threads: 0", "threads: 8");
  knobs = with(knobs, "streams: 2", "streams: 4");
  knobs = with(knobs, "progress: auto", "progress: none");
  knobs = with(knobs, "path: results/a.h5", "path: /elsewhere/b.shard-1-of-3.h5");
  knobs = with(knobs, "overwrite: false", "overwrite: true");
  CATCH_CHECK(config_sha256(knobs) == base);
  CATCH_CHECK(config_difference(kConfig, knobs).empty());

  const std::string limit = with(kConfig, "limit: 400", "limit: 300");
  CATCH_CHECK(config_sha256(limit) != base);
  CATCH_CHECK(config_difference(kConfig, limit) == "task.limit: 400 vs 300");
  CATCH_CHECK(config_difference(kConfig, limit, "in the file", "now") == "task.limit: 400 in the file, 300 now");
  const std::string two = with(with(kConfig, "seed: 0", "seed: 1"), "path: /models/tiny", "path: /models/other");
  CATCH_CHECK(config_difference(kConfig, two) == "model.path: /models/tiny vs /models/other; runtime.seed: 0 vs 1");
  // An option only one side has (e.g. added by a newer headsweep) is a difference too.
  const std::string extra = with(kConfig, "  seed: 0\n", "  seed: 0\n  executor: trie\n");
  CATCH_CHECK(config_difference(kConfig, extra) == "runtime.executor: (not set) vs trie");
  // Comments and line order do not matter.
  const std::string reordered = "task:\n  limit: 400\n  name: mnli\n  data_dir: /glue\n# x\nmodel:\n  head: auto\n"
                                "  path: /models/tiny\nruntime:\n  seed: 0\n";
  CATCH_CHECK(config_sha256(reordered) == base);
}

CATCH_TEST_CASE("identity_difference names what differs first", "[io][resume]") {
  const Sweep s;
  const SweepIdentity a = s.identity();
  CATCH_CHECK(identity_difference(a, a, "in the file", "now").empty());
  auto differ = [&](auto change) {
    SweepIdentity b = a;
    change(b);
    return identity_difference(a, b, "in the file", "now");
  };
  CATCH_CHECK(differ([](SweepIdentity& b) { b.tool_version = "0.2.0"; }) ==
              "was written by a different headsweep (version 0.1.0 in the file, 0.2.0 now)");
  CATCH_CHECK(differ([](SweepIdentity& b) { b.config_yaml = with(kConfig, "limit: 400", "limit: 300"); }) ==
              "was made by a different config (task.limit: 400 in the file, 300 now)");
  CATCH_CHECK(differ([](SweepIdentity& b) { b.config_yaml = with(kConfig, "threads: 0", "threads: 3"); }).empty());
  CATCH_CHECK(differ([](SweepIdentity& b) { b.model_sha256 = std::string(64, 'b'); }) ==
              "was made with different weights (model_sha256 aaaaaaaaaaaa… in the file, bbbbbbbbbbbb… now)");
  CATCH_CHECK(differ([](SweepIdentity& b) { b.inputs_sha256 = std::string(64, 'd'); }) ==
              "was made from different inputs: the examples' tokens or the task head differ, as the text, vocab.txt, "
              "the tokenizer's settings, 1_Pooling or id2label behind the same paths may have changed (inputs_sha256 "
              "cccccccccccc… in the file, dddddddddddd… now)");
  // A file written before inputs_sha256 existed has none to compare.
  CATCH_CHECK(differ([](SweepIdentity& b) { b.inputs_sha256.clear(); }).empty());
  CATCH_CHECK(differ([](SweepIdentity& b) { b.mask_names.pop_back(); }) ==
              "holds a different mask set (6 masks in the file, 5 masks now)");
  CATCH_CHECK(differ([](SweepIdentity& b) { b.mask_names[3] = "other"; }) ==
              "holds a different mask set (mask 3 is m3 in the file, other now)");
  CATCH_CHECK(differ([](SweepIdentity& b) { b.masks[2 * 6 + 4] ^= 1; }) ==
              "holds a different mask set (mask 2 m2 has different gates)");
  CATCH_CHECK(differ([](SweepIdentity& b) { b.rows[4] = 9; }) ==
              "holds different examples (example 4 is row 4 with label 1 in the file, row 9 with label 1 now)");
  CATCH_CHECK(differ([](SweepIdentity& b) { b.labels[1] = 2.5; }) ==
              "holds different examples (example 1 is row 1 with label 1 in the file, row 1 with label 2.5 now)");
  CATCH_CHECK(differ([](SweepIdentity& b) { b.rows.push_back(5), b.labels.push_back(0); }) ==
              "holds different examples (5 examples in the file, 6 examples now)");
}

CATCH_TEST_CASE("a reopened file keeps its rows and takes the rest", "[io][resume]") {
  TempDir dir;
  const Sweep s;
  const std::string path = dir.file("r.h5");
  {
    ResultsWriter w = s.create(path);
    for (int64_t n : {0, 2}) w.write_mask(n, Sweep::scores(n), s.predictions(n));
  }  // no finish(): as if killed
  {
    const ResultsFile f = ResultsFile::open(path);
    CATCH_CHECK_FALSE(f.info().complete);
    CATCH_CHECK(f.info().config_sha256 == config_sha256(kConfig));
    CATCH_CHECK(read_identity(f).config_yaml == kConfig);
    CATCH_CHECK(identity_difference(read_identity(f), s.identity(), "", "").empty());
  }
  {
    ResultsWriter w = ResultsWriter::reopen(path);
    CATCH_CHECK(w.n_masks() == 6);
    CATCH_CHECK(w.n_examples() == 5);
    CATCH_CHECK(w.mask_done(2));
    CATCH_CHECK_FALSE(w.mask_done(1));
    for (int64_t n : {1, 3, 4, 5}) w.write_mask(n, Sweep::scores(n), s.predictions(n));
    w.finish();
  }
  const ResultsFile f = ResultsFile::open(path);
  CATCH_CHECK(f.info().complete);
  CATCH_CHECK(f.masks_done() == std::vector<uint8_t>(6, 1));
  for (int64_t n = 0; n < 6; ++n) {
    CATCH_CHECK(f.predictions(n) == s.predictions(n));
    CATCH_CHECK(f.scores("accuracy")[n] == Sweep::scores(n).at("accuracy"));
  }
  // Nothing is left next to the file.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) entries += e.path().filename() == "r.h5" ? 0 : 1;
  CATCH_CHECK(entries == 0);
}

CATCH_TEST_CASE("shard attributes, merged_from and unallocated rows", "[io][resume]") {
  TempDir dir;
  Sweep s;
  s.header.shard_index = 1;
  s.header.shard_count = 3;
  const std::string path = dir.file("s.h5");
  WriterOptions o;
  o.rows_to_write = std::vector<int64_t>{4, 1, 2};
  {
    ResultsWriter w = s.create(path, o);
    for (int64_t n : {1, 2, 4}) w.write_mask(n, Sweep::scores(n), s.predictions(n));
    w.finish();
  }
  const ResultsFile f = ResultsFile::open(path);
  CATCH_CHECK(f.info().header.shard_index == 1);
  CATCH_CHECK(f.info().header.shard_count == 3);
  CATCH_CHECK(f.info().header.merged_from.empty());
  CATCH_CHECK(f.masks_done() == std::vector<uint8_t>{0, 1, 1, 0, 1, 0});
  for (float p : f.predictions(3)) CATCH_CHECK(std::isnan(p));
  // Rows no shard of this file writes have no chunk.
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  CATCH_CHECK(chunk_extent(file, "predictions", 0).begin == HADDR_UNDEF);
  CATCH_CHECK(chunk_extent(file, "predictions", 2).begin != HADDR_UNDEF);
  H5Fclose(file);

  Sweep m;
  m.header.merged_from = {"a.h5", "b.h5"};
  const std::string merged = dir.file("m.h5");
  { m.create(merged).finish(); }
  CATCH_CHECK(ResultsFile::open(merged).info().header.merged_from == m.header.merged_from);
  CATCH_CHECK(ResultsFile::open(merged).info().header.shard_count == 0);
}

CATCH_TEST_CASE("once created, scoring a mask changes only that mask's raw data", "[io][resume][crash]") {
  // The reason a kill cannot corrupt the file: HDF5 metadata (object headers, chunk index, heaps,
  // superblock) is never rewritten while masks are scored, only the bytes of the row itself.
  TempDir dir;
  const Sweep s(8, 40);
  const std::string path = dir.file("r.h5");
  WriterOptions o;
  o.rows_to_write = std::vector<int64_t>{1, 2, 3, 5, 6};
  ResultsWriter w = s.create(path, o);
  w.write_mask(1, Sweep::scores(1), s.predictions(1));
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  CATCH_REQUIRE(file >= 0);
  for (int64_t n : {5, 2, 6}) {
    CATCH_CAPTURE(n);
    const std::string before = read_bytes(path);
    w.write_mask(n, Sweep::scores(n), s.predictions(n));
    const std::string after = read_bytes(path);
    CATCH_REQUIRE(after.size() == before.size());
    const std::vector<Extent> allowed = {
        chunk_extent(file, "predictions", static_cast<hsize_t>(n)),
        contiguous_extent(file, "scores/accuracy", 8, static_cast<hsize_t>(n), 1),
        contiguous_extent(file, "masks_done", 1, static_cast<hsize_t>(n), 1),
    };
    size_t changed = 0, outside = 0;
    for (size_t i = 0; i < after.size(); ++i) {
      if (before[i] == after[i]) continue;
      ++changed;
      bool in = false;
      for (const Extent& e : allowed) in = in || (i >= e.begin && i < e.end);
      if (!in) ++outside;
    }
    CATCH_CHECK(changed > 0);
    CATCH_CHECK(outside == 0);
  }
  H5Fclose(file);
  // finish() rewrites one attribute in the root object header, in place.
  const std::string before = read_bytes(path);
  w.finish();
  const std::string after = read_bytes(path);
  CATCH_CHECK(after.size() == before.size());
}

CATCH_TEST_CASE("a writer killed at any moment leaves a file that opens with only whole rows done", "[io][resume][crash]") {
  // A child process creates the file and scores masks until SIGKILL arrives, at a random moment:
  // during creation, mid-row, mid-flush. The file must then be absent (killed before it was
  // published) or open cleanly, with every row marked done intact and resumable to the end.
  TempDir dir;
  const Sweep s(400, 64);
  std::mt19937 rng(12345);
  int absent = 0, partial = 0;
  for (int trial = 0; trial < 24; ++trial) {
    const std::string path = dir.file("k" + std::to_string(trial) + ".h5");
    const auto delay = std::chrono::microseconds(std::uniform_int_distribution<int>(0, 60000)(rng));
    const pid_t pid = ::fork();
    CATCH_REQUIRE(pid >= 0);
    if (pid == 0) {
      try {
        ResultsWriter w = s.create(path);
        for (int64_t n = 0;; n = (n + 1) % 400) w.write_mask(n, Sweep::scores(n), s.predictions(n));
      } catch (...) {
      }
      ::_exit(3);
    }
    std::this_thread::sleep_for(delay);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    CATCH_REQUIRE(WIFSIGNALED(status));
    if (!fs::exists(path)) {
      ++absent;
      continue;
    }
    ++partial;
    CATCH_CAPTURE(trial, delay.count());
    std::vector<uint8_t> done;
    {
      const ResultsFile f = ResultsFile::open(path);
      CATCH_CHECK_FALSE(f.info().complete);
      done = f.masks_done();
      const std::vector<double> acc = f.scores("accuracy");
      for (int64_t n = 0; n < 400; ++n) {
        if (!done[n]) continue;
        CATCH_CHECK(acc[n] == Sweep::scores(n).at("accuracy"));
        CATCH_CHECK(f.predictions(n) == s.predictions(n));
      }
    }
    ResultsWriter w = ResultsWriter::reopen(path, 3600);  // one commit, at finish()
    for (int64_t n = 0; n < 400; ++n)
      if (!done[n]) w.write_mask(n, Sweep::scores(n), s.predictions(n));
    w.finish();
    const ResultsFile f = ResultsFile::open(path);
    CATCH_CHECK(f.info().complete);
    CATCH_CHECK(f.masks_done() == std::vector<uint8_t>(400, 1));
    CATCH_CHECK(f.predictions(399) == s.predictions(399));
  }
  CATCH_INFO(absent << " kills before the file existed, " << partial << " after");
  CATCH_CHECK(partial > 0);
}

CATCH_TEST_CASE("masks_done flags wait for a commit, and an unfinished writer commits on the way out", "[io][resume]") {
  TempDir dir;
  const Sweep s;
  const std::string path = dir.file("r.h5");
  WriterOptions o;
  o.commit_interval_s = 3600;
  {
    ResultsWriter w = s.create(path, o);
    w.write_mask(0, Sweep::scores(0), s.predictions(0));
    w.write_mask(3, Sweep::scores(3), s.predictions(3));
    CATCH_CHECK(w.mask_done(3));
    CATCH_CHECK(ResultsFile::open(path).masks_done() == std::vector<uint8_t>(6, 0));  // not committed yet
  }  // destroyed without finish(), e.g. by an exception
  CATCH_CHECK(ResultsFile::open(path).masks_done() == std::vector<uint8_t>{1, 0, 0, 1, 0, 0});
  {
    ResultsWriter w = ResultsWriter::reopen(path, 3600);
    w.write_mask(1, Sweep::scores(1), s.predictions(1));
    w.finish();
  }
  const ResultsFile f = ResultsFile::open(path);
  CATCH_CHECK(f.info().complete);
  CATCH_CHECK(f.masks_done() == std::vector<uint8_t>{1, 1, 0, 1, 0, 0});
  CATCH_CHECK(f.predictions(1) == s.predictions(1));
}
