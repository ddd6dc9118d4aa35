#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <unistd.h>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "io/results.h"
#include "io/results_file.h"
#include "results_header.h"
#include "temp_dir.h"
#include "test_env.h"
#include "util/error.h"

using namespace hs::io;
namespace fs = std::filesystem;

using hs::test::TempDir;

namespace {

// 4 masks over 2 layers x 3 heads, 5 examples, two metrics.
struct Sample {
  ResultsHeader header;
  std::vector<uint8_t> masks;  // (N, L, H)
  std::vector<std::string> names = {"baseline", "-L0.H1", "-L1.H2", "-L1"};
  std::vector<double> labels = {0, 2, 1, 1, 0};
  std::vector<int64_t> rows = {0, 1, 2, 4, 7};

  Sample() {
    header = hs::test::tiny_results_header("model:\n  path: \"/models/tiny\"\n", {"accuracy", "f1"});
    masks = {1, 1, 1, 1, 1, 1,   // baseline
             1, 0, 1, 1, 1, 1,   // -L0.H1
             1, 1, 1, 1, 1, 0,   // -L1.H2
             1, 1, 1, 0, 0, 0};  // -L1
  }

  ResultsWriter create(const std::string& path, bool overwrite = false) const {
    return ResultsWriter::create(path, header, masks, names, labels, rows, overwrite);
  }

  static std::map<std::string, double> scores(int64_t n) {
    return {{"accuracy", 0.8 - 0.1 * n}, {"f1", 0.7 - 0.05 * n}};
  }
  static std::vector<float> predictions(int64_t n) {
    std::vector<float> p(5);
    for (int b = 0; b < 5; ++b) p[b] = static_cast<float>((b + n) % 3) + 0.25f * n;
    return p;
  }
};

// What check_results.py compares the file against.
nlohmann::json expected_json(const Sample& s, const std::vector<int64_t>& written, bool complete) {
  nlohmann::json j;
  j["n_masks"] = s.names.size();
  j["n_layers"] = s.header.n_layers;
  j["n_heads"] = s.header.n_heads;
  j["n_examples"] = s.labels.size();
  j["metrics"] = s.header.metrics;
  j["mask_names"] = s.names;
  j["masks"] = s.masks;
  j["labels"] = s.labels;
  j["rows"] = s.rows;
  j["complete"] = complete ? 1 : 0;
  j["attrs"] = {{"tool_version", s.header.tool_version}, {"config", s.header.config_yaml},
                {"model_path", s.header.model_path},     {"model_id", s.header.model_id},
                {"model_sha256", s.header.model_sha256}, {"task", s.header.task},
                {"split", s.header.split},               {"strategy", s.header.strategy},
                {"device_name", s.header.device_name}};
  j["written"] = nlohmann::json::object();
  for (int64_t n : written) {
    nlohmann::json scores = Sample::scores(n);
    j["written"][std::to_string(n)] = {{"scores", scores}, {"predictions", Sample::predictions(n)}};
  }
  return j;
}

// Runs tests/io/check_results.py (h5py) on `file`; false when h5py is not available.
bool run_h5py_check(const fs::path& file, const nlohmann::json& expected, const fs::path& dir) {
  const fs::path json_path = dir / (file.stem().string() + ".expected.json");
  std::ofstream(json_path) << expected.dump(1);
  const std::string src = hs::test::source_dir();
  const std::string cmd = "/usr/bin/python3 " + src + "/tests/io/check_results.py " + file.string() +
                          " " + json_path.string() + " " + src + "/docs/hdf5-schema.md";
  const int rc = std::system(cmd.c_str());
  const int status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  if (status == 77 || status == 127) {
    if (hs::test::require_data()) CATCH_FAIL("h5py is required in CI: " + cmd);
    CATCH_WARN("skipping the h5py check (/usr/bin/python3 with h5py not found)");
    return false;
  }
  CATCH_CHECK(status == 0);
  return true;
}

bool is_nan(double v) { return std::isnan(v); }

// Collects what C code (HDF5's error printer) writes to stderr while alive.
class StderrCapture {
 public:
  StderrCapture() : tmp_(std::tmpfile()) {
    std::fflush(stderr);
    saved_ = ::dup(2);
    ::dup2(::fileno(tmp_), 2);
  }
  std::string finish() {
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    std::rewind(tmp_);
    std::string out;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, tmp_)) > 0;) out.append(buf, n);
    std::fclose(tmp_);
    return out;
  }

 private:
  std::FILE* tmp_;
  int saved_ = -1;
};

}  // namespace

CATCH_TEST_CASE("results round trip through the reader", "[io][results]") {
  TempDir dir;
  const Sample s;
  const std::string path = dir.file("deep/er/r.h5");  // parents created
  {
    ResultsWriter w = s.create(path);
    CATCH_CHECK(w.n_masks() == 4);
    CATCH_CHECK(w.n_examples() == 5);
    for (int64_t n : {0, 1, 3}) w.write_mask(n, Sample::scores(n), Sample::predictions(n));
    CATCH_CHECK(w.mask_done(3));
    CATCH_CHECK_FALSE(w.mask_done(2));
    w.finish();
  }
  const ResultsFile f = ResultsFile::open(path);
  const ResultsInfo& i = f.info();
  CATCH_CHECK(i.schema_version == 1);
  CATCH_CHECK(i.tool == "headsweep");
  CATCH_CHECK(i.complete);
  CATCH_CHECK(i.n_masks == 4);
  CATCH_CHECK(i.n_examples == 5);
  CATCH_CHECK(i.created.size() == 20);
  CATCH_CHECK(i.created.back() == 'Z');
  CATCH_CHECK(i.header.tool_version == "0.1.0");
  CATCH_CHECK(i.header.config_yaml == s.header.config_yaml);
  CATCH_CHECK(i.header.model_path == "/models/tiny");
  CATCH_CHECK(i.header.model_id == "tiny");
  CATCH_CHECK(i.header.model_sha256 == s.header.model_sha256);
  CATCH_CHECK(i.header.task == "mnli");
  CATCH_CHECK(i.header.split == "dev");
  CATCH_CHECK(i.header.strategy == "single-head");
  CATCH_CHECK(i.header.device_name == s.header.device_name);
  CATCH_CHECK(i.header.n_layers == 2);
  CATCH_CHECK(i.header.n_heads == 3);
  CATCH_CHECK(i.header.metrics == s.header.metrics);
  CATCH_CHECK(f.masks() == s.masks);
  CATCH_CHECK(f.mask_names() == s.names);
  CATCH_CHECK(f.masks_done() == std::vector<uint8_t>{1, 1, 0, 1});
  CATCH_CHECK(f.labels() == s.labels);
  CATCH_CHECK(f.rows() == s.rows);
  const auto acc = f.scores("accuracy");
  CATCH_REQUIRE(acc.size() == 4);
  CATCH_CHECK(acc[0] == 0.8);
  CATCH_CHECK(acc[3] == Sample::scores(3).at("accuracy"));
  CATCH_CHECK(is_nan(acc[2]));
  CATCH_CHECK(f.scores("f1")[1] == Sample::scores(1).at("f1"));
  CATCH_CHECK(f.predictions(1) == Sample::predictions(1));
  for (float p : f.predictions(2)) CATCH_CHECK(std::isnan(p));
  CATCH_REQUIRE_THROWS_WITH(f.scores("mcc"), path + ": no metric mcc (the file has accuracy, f1)");
}

CATCH_TEST_CASE("h5py reads the file as docs/hdf5-schema.md says", "[io][results][h5py]") {
  TempDir dir;
  const Sample s;
  // A finished run, with one mask left unwritten (as a shard or an interrupted resume would).
  const fs::path done = dir.file("done.h5");
  {
    ResultsWriter w = s.create(done.string());
    for (int64_t n : {0, 1, 3}) w.write_mask(n, Sample::scores(n), Sample::predictions(n));
    w.finish();
  }
  if (!run_h5py_check(done, expected_json(s, {0, 1, 3}, true), dir.path())) return;
  // A run that never reached finish().
  const fs::path partial = dir.file("partial.h5");
  {
    ResultsWriter w = s.create(partial.string());
    w.write_mask(2, Sample::scores(2), Sample::predictions(2));
  }
  run_h5py_check(partial, expected_json(s, {2}, false), dir.path());
}

CATCH_TEST_CASE("a file whose finish() never ran says complete = 0", "[io][results]") {
  TempDir dir;
  const Sample s;
  const std::string path = dir.file("r.h5");
  {
    ResultsWriter w = s.create(path);
    w.write_mask(0, Sample::scores(0), Sample::predictions(0));
    // Readable while the writer still holds it: every write_mask is flushed.
    const ResultsFile live = ResultsFile::open(path);
    CATCH_CHECK_FALSE(live.info().complete);
    CATCH_CHECK(live.masks_done() == std::vector<uint8_t>{1, 0, 0, 0});
    CATCH_CHECK(live.scores("accuracy")[0] == 0.8);
  }
  const ResultsFile f = ResultsFile::open(path);
  CATCH_CHECK_FALSE(f.info().complete);
  CATCH_CHECK(f.masks_done() == std::vector<uint8_t>{1, 0, 0, 0});
}

CATCH_TEST_CASE("masks_done waits for a commit: the interval, commit(), or the writer's end", "[io][results]") {
  TempDir dir;
  const Sample s;
  const std::string path = dir.file("r.h5");
  hs::io::WriterOptions o;
  o.commit_interval_s = 1e9;  // only an explicit commit, or the writer's end, sets the flags
  ResultsWriter w = ResultsWriter::create(path, s.header, s.masks, s.names, s.labels, s.rows, o);
  w.write_mask(1, Sample::scores(1), Sample::predictions(1));
  w.write_mask(2, Sample::scores(2), Sample::predictions(2));
  CATCH_CHECK(ResultsFile::open(path).masks_done() == std::vector<uint8_t>{0, 0, 0, 0});
  w.commit();
  CATCH_CHECK(ResultsFile::open(path).masks_done() == std::vector<uint8_t>{0, 1, 1, 0});
  w.commit();  // nothing pending: no change
  w.write_mask(3, Sample::scores(3), Sample::predictions(3));
  CATCH_CHECK(ResultsFile::open(path).masks_done() == std::vector<uint8_t>{0, 1, 1, 0});
  w.commit();
  const ResultsFile f = ResultsFile::open(path);
  CATCH_CHECK(f.masks_done() == std::vector<uint8_t>{0, 1, 1, 1});
  CATCH_CHECK_FALSE(f.info().complete);
  CATCH_CHECK(f.scores("accuracy")[3] == Sample::scores(3).at("accuracy"));
}

CATCH_TEST_CASE("an existing file is kept unless overwrite is set", "[io][results]") {
  TempDir dir;
  const Sample s;
  const std::string path = dir.file("r.h5");
  { s.create(path).finish(); }
  CATCH_REQUIRE_THROWS_WITH(s.create(path), path + " exists (set output.overwrite: true to replace it)");
  CATCH_CHECK(ResultsFile::open(path).info().complete);  // untouched
  {
    ResultsWriter w = s.create(path, true);
    CATCH_CHECK_FALSE(ResultsFile::open(path).info().complete);  // replaced
  }
}

namespace {

// Another process, h5py, holding `path` open in `mode` ("r" or "r+") until the returned pipe is
// closed. HDF5's lock works between processes (one process shares its open files), so a test needs
// another process to stand for a run or a reader.
FILE* hold_open(const TempDir& dir, const std::string& path, const std::string& mode) {
  const std::string ready = dir.file("holder-ready");
  fs::remove(ready);
  const std::string cmd = fmt::format(
      "exec /usr/bin/python3 -c \"import h5py, sys; f = h5py.File('{}', '{}'); open('{}', 'w').close(); "
      "sys.stdin.read()\"",
      path, mode, ready);
  FILE* holder = ::popen(cmd.c_str(), "w");  // its stdin: closing it ends the holder
  CATCH_REQUIRE(holder != nullptr);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(ready)) {
    CATCH_REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  fs::remove(ready);
  return holder;
}

}  // namespace

CATCH_TEST_CASE("a file that another process writes is neither replaced nor reopened", "[io][results][h5py]") {
  ::unsetenv("HDF5_USE_FILE_LOCKING");
  TempDir dir;
  const Sample s;
  const std::string path = dir.file("r.h5");
  {
    ResultsWriter w = s.create(path);
    w.write_mask(0, Sample::scores(0), Sample::predictions(0));
  }
  CATCH_CHECK_FALSE(held_by_writer(path));
  CATCH_CHECK_FALSE(held_by_writer(dir.file("missing.h5")));
  auto only_the_file = [&] {  // no temporary file left behind
    for (const auto& entry : fs::directory_iterator(dir.path())) CATCH_CHECK(entry.path().filename() == "r.h5");
  };

  FILE* writer = hold_open(dir, path, "r+");
  CATCH_CHECK(held_by_writer(path));
  const std::string refusal = path + " is open for writing in another process (HDF5 could not lock it)";
  CATCH_CHECK_THROWS_WITH(s.create(path, true), Catch::StartsWith(refusal));
  CATCH_CHECK_THROWS_AS(s.create(path, true), hs::InputError);
  CATCH_CHECK_THROWS_WITH(ResultsWriter::reopen(path), Catch::StartsWith(refusal));
  only_the_file();
  ::pclose(writer);
  CATCH_CHECK_FALSE(held_by_writer(path));
  CATCH_CHECK(ResultsFile::open(path).masks_done() == std::vector<uint8_t>{1, 0, 0, 0});  // untouched

  // A reader's lock also keeps a run from resuming the file; the message says it is not a run.
  FILE* reader = hold_open(dir, path, "r");
  CATCH_CHECK_FALSE(held_by_writer(path));
  CATCH_CHECK_THROWS_WITH(ResultsWriter::reopen(path),
                          Catch::StartsWith(path + " is open in another process, whose lock keeps this run from "
                                                   "writing it"));
  only_the_file();
  ::pclose(reader);

  // Free again, it can be replaced.
  { ResultsWriter w = s.create(path, true); }
  CATCH_CHECK(ResultsFile::open(path).masks_done() == std::vector<uint8_t>{0, 0, 0, 0});
}

CATCH_TEST_CASE("unwritable paths are InputErrors naming the path", "[io][results]") {
  TempDir dir;
  const Sample s;
  const std::string proc = "/proc/forbidden/x.h5";
  CATCH_REQUIRE_THROWS_AS(s.create(proc), hs::InputError);
  CATCH_REQUIRE_THROWS_WITH(s.create(proc), Catch::Matchers::StartsWith(proc + ": "));

  std::ofstream(dir.file("plain")) << "x";
  const std::string under_file = dir.file("plain/sub/x.h5");
  CATCH_REQUIRE_THROWS_WITH(s.create(under_file), under_file + ": cannot create the results file: " +
                                                      dir.file("plain") + " is not a folder");

  CATCH_REQUIRE_THROWS_WITH(s.create(dir.path()),
                            dir.path() + ": is a folder, not a results file name");

  // A symlink loop is named as one, as the file and as a folder on its way.
  const std::string loop = dir.file("loop");
  fs::create_symlink(loop, loop);
  CATCH_REQUIRE_THROWS_WITH(s.create(loop), loop + ": cannot access it (Too many levels of symbolic links)");
  CATCH_REQUIRE_THROWS_WITH(s.create(loop + "/sub/x.h5"),
                            loop + "/sub/x.h5: cannot access it (Too many levels of symbolic links)");

  if (::geteuid() != 0) {  // root ignores permissions
    const fs::path locked = dir.file("locked");
    fs::create_directories(locked);
    fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
    const std::string p = (locked / "x.h5").string();
    CATCH_REQUIRE_THROWS_WITH(s.create(p), p + ": cannot create the results file: Permission denied");
  }
  CATCH_CHECK_FALSE(fs::exists(dir.file("plain/sub")));
}

CATCH_TEST_CASE("HDF5 failures become one clear message and nothing on stderr", "[io][results]") {
  const Sample s;
  // The folder exists, so HDF5 itself is asked to create the file, and fails (even for root).
  const std::string path = "/proc/headsweep-test.h5";
  StderrCapture capture;
  std::string message;
  try {
    s.create(path);
  } catch (const hs::InputError& e) {
    message = e.what();
  }
  const std::string err = capture.finish();
  CATCH_CHECK_THAT(message, Catch::Matchers::StartsWith(path + ": cannot create the results file: "));
  CATCH_CHECK(message.find("HDF5") == std::string::npos);
  CATCH_CHECK(err.empty());
}

CATCH_TEST_CASE("the reader rejects files that are not results", "[io][results]") {
  TempDir dir;
  const std::string missing = dir.file("none.h5");
  CATCH_REQUIRE_THROWS_WITH(ResultsFile::open(missing), missing + ": no such file");
  const std::string text = dir.file("t.h5");
  std::ofstream(text) << "not hdf5";
  CATCH_REQUIRE_THROWS_WITH(ResultsFile::open(text), text + ": not an HDF5 file");
}

CATCH_TEST_CASE("a results file with a missing or misshapen dataset is refused as damaged", "[io][results][h5py]") {
  // merge and resume read whole rows and columns by the header's N and B: a short dataset would be
  // read past its end, a long one misread.
  TempDir dir;
  const Sample s;  // N = 4 masks, B = 5 examples, L x H = 2 x 3
  const std::string good = dir.file("good.h5");
  { s.create(good).finish(); }
  CATCH_REQUIRE_NOTHROW(ResultsFile::open(good));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"del f['scores/f1']; f['scores/f1'] = np.zeros(3)", "/scores/f1 has shape (3,), expected (4,)"},
      {"del f['predictions']; f['predictions'] = np.zeros((4, 6), 'f4')", "/predictions has shape (4, 6), expected (4, 5)"},
      {"del f['predictions']; f['predictions'] = np.array([['a'] * 5] * 4, 'S1')",
       "/predictions holds strings, expected floating-point numbers"},
      {"del f['masks_done']", "dataset /masks_done is missing"},
      {"del f['mask_names']; f['mask_names'] = np.zeros(4)", "/mask_names holds floating-point numbers, expected strings"},
      {"del f['examples/row']; f['examples/row'] = np.arange(7)", "/examples/row has shape (7,), expected (5,)"},
      // A shape declared far beyond what was written (chunks never stored take no space): refused
      // before any reader allocates by it.
      {"del f['masks']; f.create_dataset('masks', shape=(2**40, 2, 3), chunks=(1, 2, 3), dtype='u1')",
       "/masks and n_examples: shape (1099511627776, 2, 3) holds more than 2^31 values"},
  };
  for (size_t k = 0; k < cases.size(); ++k) {
    const std::string path = dir.file("bad" + std::to_string(k) + ".h5");
    fs::copy_file(good, path);
    const std::string cmd = fmt::format(
        "/usr/bin/python3 -c \"import h5py, numpy as np; f = h5py.File('{}', 'r+'); {}; f.close()\"", path,
        cases[k].first);
    CATCH_REQUIRE(std::system(cmd.c_str()) == 0);
    CATCH_INFO(cases[k].first);
    CATCH_CHECK_THROWS_WITH(ResultsFile::open(path), path + ": damaged results file: " + cases[k].second);
    CATCH_CHECK_THROWS_AS(ResultsFile::open(path), hs::InputError);
  }
}

CATCH_TEST_CASE("writer misuse is a programming error, not an InputError", "[io][results]") {
  TempDir dir;
  Sample s;
  const std::string path = dir.file("r.h5");
  ResultsWriter w = s.create(path);
  CATCH_CHECK_THROWS_AS(w.write_mask(4, Sample::scores(0), Sample::predictions(0)), std::out_of_range);
  CATCH_CHECK_THROWS_AS(w.write_mask(0, Sample::scores(0), {1.0f}), std::invalid_argument);
  CATCH_CHECK_THROWS_AS(w.write_mask(0, {{"accuracy", 1.0}}, Sample::predictions(0)), std::invalid_argument);
  CATCH_CHECK_THROWS_AS(w.write_mask(0, {{"accuracy", 1.0}, {"mcc", 0.0}}, Sample::predictions(0)),
                        std::invalid_argument);
  s.masks.pop_back();
  CATCH_CHECK_THROWS_AS(s.create(dir.file("bad.h5")), std::invalid_argument);
  CATCH_CHECK_FALSE(fs::exists(dir.file("bad.h5")));
  // Moving keeps one owner of the file.
  ResultsWriter moved = std::move(w);
  moved.write_mask(0, Sample::scores(0), Sample::predictions(0));
  moved.finish();
  CATCH_CHECK_THROWS_AS(moved.write_mask(1, Sample::scores(1), Sample::predictions(1)), std::logic_error);
}
