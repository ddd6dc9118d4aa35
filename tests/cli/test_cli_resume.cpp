// Resuming, sharding and merging end to end, with the real binary on STS-B: a run killed with
// SIGKILL and rerun must end with exactly the file an uninterrupted run writes; a file from another
// sweep is refused with one line saying what differs; three shards merged must equal the unsharded
// run.
#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "cli_runner.h"
#include "io/results.h"
#include "io/results_file.h"
#include "test_env.h"
#include "util/error.h"

namespace fs = std::filesystem;
using hs::test::run_cli;

namespace {

const char* kAnalyses = "importance:\n  method: bertology\n  limit: 12\nattention:\n  statistics: true\n";

// extra: more config sections; the SIGKILL and shard tests add the analyses that are written when
// the file is created (importance, attention) so resumed and merged files must carry them too.
std::string config_text(const std::string& model, const std::string& glue, const std::string& out,
                        const std::string& strategy, int limit, const std::string& extra = "") {
  return fmt::format(R"(model:
  path: {}
task:
  name: stsb
  data_dir: {}
  limit: {}
sweep:
  strategy: {}
runtime:
  threads: 1
  executor: naive
  progress: lines
{}output:
  path: {}
)",
                     model, glue, limit, strategy, extra, out);
}

void require_one_line_error(const hs::test::CliResult& r, const std::string& needle) {
  CATCH_INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CATCH_CHECK(r.status == 2);
  CATCH_CHECK(r.err.find(needle) != std::string::npos);
  CATCH_CHECK(r.err.rfind("headsweep: error: ", 0) == 0);
  CATCH_CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

// Starts headsweep with `args`, stdout and stderr to files; `env` entries are NAME=VALUE.
pid_t spawn(const std::vector<std::string>& args, const std::string& out, const std::string& err) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ::dup2(o, 1);
  ::dup2(e, 2);
  std::vector<std::string> all = {hs::test::binary()};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

// Masks marked done in `path`, or -1 while it does not exist yet. Reads the file while the run
// writes it (HDF5_USE_FILE_LOCKING=FALSE is set for this process; see docs/hdf5-schema.md).
int64_t masks_done(const std::string& path) {
  if (!fs::exists(path)) return -1;
  const auto done = hs::io::ResultsFile::open(path).masks_done();
  return std::count(done.begin(), done.end(), uint8_t{1});
}

// Waits, for at most 5 minutes, until `ready()` holds while the run `pid` is still going.
void wait_until(pid_t pid, const std::function<bool()>& ready) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  int status = 0;
  while (!ready()) {
    CATCH_REQUIRE(std::chrono::steady_clock::now() < deadline);
    CATCH_REQUIRE(::waitpid(pid, &status, WNOHANG) == 0);  // the run must still be going
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Waits until the run writing `path` has at least `target` masks done, then kills it with SIGKILL.
// Returns the masks done after the kill.
int64_t kill_when_done(pid_t pid, const std::string& path, int64_t target) {
  wait_until(pid, [&] { return masks_done(path) >= target; });
  ::kill(pid, SIGKILL);
  int status = 0;
  CATCH_REQUIRE(::waitpid(pid, &status, 0) == pid);
  CATCH_REQUIRE(WIFSIGNALED(status));
  CATCH_REQUIRE(WTERMSIG(status) == SIGKILL);
  return masks_done(path);
}

// Runs Python statements on an h5py File `f` opened read-write, to make files a test needs.
void edit(const std::string& path, const std::string& statements) {
  const std::string cmd = fmt::format(
      "/usr/bin/python3 -c \"import h5py, numpy as np; f = h5py.File('{}', 'r+'); {}; f.close()\"", path, statements);
  CATCH_INFO(cmd);
  CATCH_REQUIRE(std::system(cmd.c_str()) == 0);
}

bool compare_with_h5py(const std::string& a, const std::string& b, const std::string& ignore) {
  const std::string cmd = fmt::format("/usr/bin/python3 {}/tests/cli/compare_results.py {} {} --ignore-attrs {}",
                                      hs::test::source_dir(), a, b, ignore);
  CATCH_INFO(cmd);
  return std::system(cmd.c_str()) == 0;
}

int64_t count_of(const std::vector<uint8_t>& v) { return std::count(v.begin(), v.end(), uint8_t{1}); }

}  // namespace

CATCH_TEST_CASE("run: killed with SIGKILL twice and rerun, the file equals an uninterrupted run's", "[cli][e2e][resume]") {
  HS_REQUIRE_MODEL(model);
  HS_REQUIRE_GLUE(glue);
  ::setenv("HDF5_USE_FILE_LOCKING", "FALSE", 1);
  const std::string dir = hs::test::temp_dir("resume-kill");
  const std::string out = dir + "/out.h5", ref = dir + "/ref.h5", cfg = dir + "/sweep.yaml";
  hs::test::write_file(cfg, config_text(model, glue, out, "single-head", 24, kAnalyses));

  const auto uninterrupted = run_cli({"run", cfg, "--output", ref});
  CATCH_INFO(uninterrupted.out << uninterrupted.err);
  CATCH_REQUIRE(uninterrupted.status == 0);

  // First run, killed once a few masks are in the file.
  const int64_t k1 = kill_when_done(spawn({"run", cfg}, dir + "/1.out", dir + "/1.err"), out, 5);
  CATCH_INFO("masks done after the first kill: " << k1);
  CATCH_REQUIRE(k1 >= 5);
  CATCH_REQUIRE(k1 < 73);
  {
    const auto f = hs::io::ResultsFile::open(out);
    CATCH_CHECK_FALSE(f.info().complete);
    // Every row marked done is whole.
    const auto done = f.masks_done();
    const auto spearman = f.scores("spearman");
    for (int64_t n = 0; n < 73; ++n) {
      if (!done[n]) continue;
      CATCH_CHECK(std::isfinite(spearman[n]));
      for (float p : f.predictions(n)) CATCH_CHECK(std::isfinite(p));
    }
  }

  // The rerun resumes, and is killed too.
  const int64_t k2 = kill_when_done(spawn({"run", cfg}, dir + "/2.out", dir + "/2.err"), out, k1 + 5);
  CATCH_INFO("masks done after the second kill: " << k2);
  CATCH_CHECK(hs::test::read_file(dir + "/2.err")
                  .find(fmt::format("headsweep: resuming {}: {} of 73 masks already scored, {} to go", out, k1, 73 - k1)) !=
              std::string::npos);
  CATCH_REQUIRE(k2 >= k1 + 5);
  CATCH_REQUIRE(k2 < 73);

  // The third run finishes, scoring exactly the masks not yet in the file.
  const auto last = run_cli({"run", cfg});
  CATCH_INFO(last.out << last.err);
  CATCH_REQUIRE(last.status == 0);
  CATCH_CHECK(last.err.find(fmt::format("resuming {}: {} of 73 masks already scored, {} to go", out, k2, 73 - k2)) !=
              std::string::npos);
  CATCH_CHECK(last.err.find(fmt::format("progress: masks {0}/{0}", 73 - k2)) != std::string::npos);
  CATCH_CHECK(last.out.find(fmt::format("73 masks (single-head), {} scored in", 73 - k2)) != std::string::npos);
  CATCH_CHECK(last.out.find(fmt::format(", {} already in the file", k2)) != std::string::npos);

  const auto a = hs::io::ResultsFile::open(out), b = hs::io::ResultsFile::open(ref);
  CATCH_CHECK(a.info().complete);
  CATCH_CHECK(a.masks() == b.masks());
  CATCH_CHECK(a.mask_names() == b.mask_names());
  CATCH_CHECK(a.masks_done() == std::vector<uint8_t>(73, 1));
  CATCH_CHECK(a.rows() == b.rows());
  CATCH_CHECK(a.labels() == b.labels());
  for (const char* metric : {"spearman", "pearson"}) {
    const auto x = a.scores(metric), y = b.scores(metric);
    for (int64_t n = 0; n < 73; ++n) CATCH_CHECK(std::abs(x[n] - y[n]) <= 1e-12);
  }
  for (int64_t n = 0; n < 73; ++n) CATCH_CHECK(a.predictions(n) == b.predictions(n));
  CATCH_CHECK(compare_with_h5py(out, ref, "created"));

  // Once complete, a rerun does nothing and leaves the file as it is.
  const std::string bytes = hs::test::read_file(out);
  const auto again = run_cli({"run", cfg});
  CATCH_INFO(again.out << again.err);
  CATCH_CHECK(again.status == 0);
  CATCH_CHECK(again.out.find("already complete") != std::string::npos);
  // It still reports the finished sweep, from the file: the same ranking, importance and attention
  // lines as the run that completed it.
  const auto body = [](const std::string& out) { return out.substr(out.find('\n') + 1); };
  CATCH_CHECK(body(again.out) == body(last.out));
  CATCH_CHECK(again.err.find("progress:") == std::string::npos);
  CATCH_CHECK(hs::test::read_file(out) == bytes);
}

CATCH_TEST_CASE("run: SIGTERM stops a run after its work in flight, keeping every scored mask", "[cli][e2e][resume]") {
  HS_REQUIRE_MODEL(model);
  HS_REQUIRE_GLUE(glue);
  ::setenv("HDF5_USE_FILE_LOCKING", "FALSE", 1);
  const std::string dir = hs::test::temp_dir("resume-sigterm");
  const std::string out = dir + "/out.h5", cfg = dir + "/sweep.yaml";
  hs::test::write_file(cfg, config_text(model, glue, out, "single-head", 24));
  const pid_t pid = spawn({"run", cfg}, dir + "/1.out", dir + "/1.err");
  wait_until(pid, [&] { return masks_done(out) >= 3; });
  ::kill(pid, SIGTERM);  // as scancel, or SLURM at a job's time limit
  int status = 0;
  CATCH_REQUIRE(::waitpid(pid, &status, 0) == pid);
  const std::string err = hs::test::read_file(dir + "/1.err");
  CATCH_INFO(err);
  // It ended by itself, with the shell's status for SIGTERM, after saying so.
  CATCH_REQUIRE(WIFEXITED(status));
  CATCH_CHECK(WEXITSTATUS(status) == 128 + SIGTERM);
  CATCH_CHECK(err.find("headsweep: stopped by SIGTERM: the masks scored so far are kept in " + out +
                       "; run the same command again to resume\n") != std::string::npos);
  // Every mask it wrote is marked done, the last ones too: the writer committed them on the way out.
  // A row never written holds NaN.
  int64_t kept = 0;
  {  // closed before the rerun: this process would otherwise go on reading its cached copy
    const auto f = hs::io::ResultsFile::open(out);
    CATCH_CHECK_FALSE(f.info().complete);
    const std::vector<uint8_t> done = f.masks_done();
    kept = count_of(done);
    CATCH_CHECK(kept >= 3);
    CATCH_CHECK(kept < 73);
    for (int64_t n = 0; n < 73; ++n) CATCH_CHECK(std::isnan(f.predictions(n)[0]) == (done[n] == 0));
  }
  const auto rerun = run_cli({"run", cfg});
  CATCH_INFO(rerun.out << rerun.err);
  CATCH_REQUIRE(rerun.status == 0);
  CATCH_CHECK(rerun.err.find(fmt::format("{} of 73 masks already scored, {} to go", kept, 73 - kept)) !=
              std::string::npos);
  CATCH_CHECK(hs::io::ResultsFile::open(out).info().complete);
}

CATCH_TEST_CASE("run: importances computed before a stop are read back by the rerun, which ends as an uninterrupted run",
                "[cli][e2e][resume]") {
  HS_REQUIRE_MODEL(model);
  HS_REQUIRE_GLUE(glue);
  ::setenv("HDF5_USE_FILE_LOCKING", "FALSE", 1);
  const std::string dir = hs::test::temp_dir("resume-importance");
  const std::string out = dir + "/out.h5", ref = dir + "/ref.h5", cfg = dir + "/sweep.yaml";
  const std::string store = out + ".importance";
  // A curve recomputed at 9 steps: 10 importances, each of several batches, before the results file exists.
  hs::test::write_file(cfg, config_text(model, glue, out, "layer", 16,
                                        "importance:\n  method: michel\n  limit: 24\n  batch_size: 2\n"
                                        "pruning:\n  schedule: percent\n"
                                        "  fractions: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]\n"
                                        "  orders: [importance]\n  recompute: true\n  min_heads_per_layer: 1\n"));
  const auto uninterrupted = run_cli({"run", cfg, "--output", ref});
  CATCH_INFO(uninterrupted.out << uninterrupted.err);
  CATCH_REQUIRE(uninterrupted.status == 0);
  CATCH_CHECK_FALSE(fs::exists(ref + ".importance"));  // removed once the run has finished

  // Stopped once the full model's importance (12 batches of 2 examples) is kept and a batch of the
  // curve's first step is: the store holds a 13th batch record.
  const pid_t pid = spawn({"run", cfg}, dir + "/1.out", dir + "/1.err");
  wait_until(pid, [&] {
    if (!fs::exists(store)) return false;
    const std::string kept = hs::test::read_file(store);
    size_t batches = 0;
    for (size_t at = kept.find("\"batch\""); at != std::string::npos; at = kept.find("\"batch\"", at + 1)) ++batches;
    return batches >= 13;
  });
  ::kill(pid, SIGINT);
  int status = 0;
  CATCH_REQUIRE(::waitpid(pid, &status, 0) == pid);
  const std::string err = hs::test::read_file(dir + "/1.err");
  CATCH_INFO(err);
  CATCH_REQUIRE(WIFEXITED(status));
  CATCH_CHECK(WEXITSTATUS(status) == 128 + SIGINT);
  CATCH_CHECK(err.find("headsweep: stopped by SIGINT before the results file was made: the importances computed so "
                       "far are kept in " + store + "; run the same command again to resume\n") != std::string::npos);
  CATCH_CHECK_FALSE(fs::exists(out));
  CATCH_REQUIRE(fs::exists(store));

  const auto rerun = run_cli({"run", cfg});
  CATCH_INFO(rerun.out << rerun.err);
  CATCH_REQUIRE(rerun.status == 0);
  const std::string kept = " (read back from " + store + ")\n";
  CATCH_CHECK(rerun.err.find("michel importance on stsb train (24 examples)" + kept) != std::string::npos);
  // The step that was cut short computes only the batches it had not finished.
  CATCH_CHECK((rerun.err.find(" batch read back from " + store + ")\n") != std::string::npos ||
               rerun.err.find(" batches read back from " + store + ")\n") != std::string::npos));
  size_t read_back = 0;
  for (size_t at = rerun.err.find(kept); at != std::string::npos; at = rerun.err.find(kept, at + 1)) ++read_back;
  CATCH_CHECK(read_back < 10);  // the stop came before the curve's last step
  CATCH_CHECK_FALSE(fs::exists(store));
  // What was read back is what was computed: the importance, the curve's masks and their scores.
  CATCH_CHECK(compare_with_h5py(out, ref, "created"));
}

CATCH_TEST_CASE("run: every scored mask is on disk before the bootstrap starts (trie executor)", "[cli][e2e][resume]") {
  HS_REQUIRE_MODEL(model);
  HS_REQUIRE_GLUE(glue);
  ::setenv("HDF5_USE_FILE_LOCKING", "FALSE", 1);
  const std::string dir = hs::test::temp_dir("resume-bootstrap");
  const std::string out = dir + "/out.h5", cfg = dir + "/sweep.yaml";
  // The trie reports a group's masks together when the group ends; a long bootstrap follows.
  std::string text = config_text(model, glue, out, "single-head", 16, "stats:\n  bootstrap: 100000\n");
  text.replace(text.find("executor: naive"), 15, "executor: trie");
  hs::test::write_file(cfg, text);
  // Killed once all 73 masks are marked done: that must happen while the run is still going.
  CATCH_REQUIRE(kill_when_done(spawn({"run", cfg}, dir + "/1.out", dir + "/1.err"), out, 73) == 73);
  CATCH_CHECK_FALSE(hs::io::ResultsFile::open(out).info().complete);
  const auto rerun = run_cli({"run", cfg});
  CATCH_INFO(rerun.out << rerun.err);
  CATCH_REQUIRE(rerun.status == 0);
  CATCH_CHECK(rerun.err.find("73 of 73 masks already scored, 0 to go") != std::string::npos);
  CATCH_CHECK(hs::io::ResultsFile::open(out).info().complete);
}

CATCH_TEST_CASE("run: a trie group killed mid-way resumes at its unfinished batches", "[cli][e2e][resume]") {
  HS_REQUIRE_MODEL(model);
  HS_REQUIRE_GLUE(glue);
  ::setenv("HDF5_USE_FILE_LOCKING", "FALSE", 1);
  const std::string dir = hs::test::temp_dir("resume-group");
  const std::string out = dir + "/out.h5", ref = dir + "/ref.h5", cfg = dir + "/sweep.yaml", group = out + ".group";
  // One group of all 73 masks, over several small batches.
  std::string text = config_text(model, glue, out, "single-head", 24);
  text.replace(text.find("executor: naive"), 15, "executor: trie\n  token_budget: 256");
  hs::test::write_file(cfg, text);
  const auto uninterrupted = run_cli({"run", cfg, "--output", ref});
  CATCH_INFO(uninterrupted.out << uninterrupted.err);
  CATCH_REQUIRE(uninterrupted.status == 0);
  CATCH_CHECK_FALSE(fs::exists(ref + ".group"));  // removed with the group

  // Killed once the first batch's outputs are in the group file (their done byte follows them).
  const pid_t pid = spawn({"run", cfg}, dir + "/1.out", dir + "/1.err");
  wait_until(pid, [&] { return fs::exists(group) && fs::file_size(group) >= 100000; });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ::kill(pid, SIGKILL);
  int status = 0;
  CATCH_REQUIRE(::waitpid(pid, &status, 0) == pid);
  CATCH_REQUIRE(masks_done(out) == 0);  // the group had not ended

  const auto rerun = run_cli({"run", cfg});
  CATCH_INFO(rerun.out << rerun.err);
  CATCH_REQUIRE(rerun.status == 0);
  const size_t at = rerun.err.find("headsweep: resuming 73 masks scored together: ");
  CATCH_REQUIRE(at != std::string::npos);
  CATCH_CHECK(std::stoi(rerun.err.substr(at + 46)) >= 1);
  CATCH_CHECK(rerun.err.find("batches already done (" + group + ")") != std::string::npos);
  CATCH_CHECK_FALSE(fs::exists(group));
  // The batches read back are the batches computed: the file is the uninterrupted run's.
  const auto a = hs::io::ResultsFile::open(out), b = hs::io::ResultsFile::open(ref);
  CATCH_CHECK(a.info().complete);
  for (int64_t n = 0; n < 73; ++n) CATCH_CHECK(a.predictions(n) == b.predictions(n));
  CATCH_CHECK(compare_with_h5py(out, ref, "created"));
}

CATCH_TEST_CASE("run: a second run on a file that a run writes is refused, and the first completes", "[cli][e2e][resume]") {
  HS_REQUIRE_MODEL(model);
  HS_REQUIRE_GLUE(glue);
  ::unsetenv("HDF5_USE_FILE_LOCKING");  // the runs here must lock, as they do by default
  const std::string dir = hs::test::temp_dir("resume-locked");
  const std::string out = dir + "/out.h5", cfg = dir + "/sweep.yaml";
  // A long bootstrap keeps the first run writing while the others start.
  hs::test::write_file(cfg, config_text(model, glue, out, "single-head", 16, "stats:\n  bootstrap: 100000\n"));
  const pid_t first = spawn({"run", cfg}, dir + "/1.out", dir + "/1.err");
  // Until the results file exists and the first run has it open.
  wait_until(first, [&] { return hs::io::held_by_writer(out); });
  int status = 0;
  const std::string refusal = out + " is open for writing in another process (HDF5 could not lock it)";
  // The same config would resume the file; with output.overwrite it would replace it.
  require_one_line_error(run_cli({"run", cfg}), refusal);
  require_one_line_error(run_cli({"run", cfg, "--set", "output.overwrite=true"}), refusal);
  // Nor does a merge replace it.
  require_one_line_error(run_cli({"merge", out, dir + "/shard-0.h5", "--overwrite"}), refusal);
  CATCH_REQUIRE(::waitpid(first, &status, WNOHANG) == 0);  // still writing, so the refusals were the lock's
  CATCH_REQUIRE(::waitpid(first, &status, 0) == first);
  CATCH_INFO(hs::test::read_file(dir + "/1.err"));
  CATCH_REQUIRE(WIFEXITED(status));
  CATCH_CHECK(WEXITSTATUS(status) == 0);
  const auto f = hs::io::ResultsFile::open(out);
  CATCH_CHECK(f.info().complete);
  CATCH_CHECK(count_of(f.masks_done()) == 73);
  for (const auto& entry : fs::directory_iterator(dir))  // no temporary file left behind
    CATCH_CHECK(entry.path().filename().string().find(".creating-") == std::string::npos);
}

CATCH_TEST_CASE("run: a file from another sweep is refused with one line saying what differs", "[cli][e2e][resume]") {
  HS_REQUIRE_MODEL(real_model);
  HS_REQUIRE_GLUE(glue);
  const std::string dir = hs::test::temp_dir("resume-refuse");
  const std::string model = hs::test::model_copy(real_model, dir + "/model");
  const std::string out = dir + "/out.h5", cfg = dir + "/sweep.yaml";
  hs::test::write_file(cfg, config_text(model, glue, out, "layer", 8));
  {
    const auto r = run_cli({"run", cfg});
    CATCH_INFO(r.out << r.err);
    CATCH_REQUIRE(r.status == 0);
  }
  // As a run killed after three of the seven masks would have left it.
  edit(out, "f.attrs['complete'] = 0; f['masks_done'][3:] = 0");
  const std::string partial = hs::test::read_file(out);
  auto copy_edited = [&](const std::string& name, const std::string& statements) {
    const std::string path = dir + "/" + name;
    hs::test::write_file(path, partial);
    if (!statements.empty()) edit(path, statements);
    return path;
  };
  const std::string fix = "; use another output.path or output.overwrite: true";

  CATCH_SECTION("a different config") {
    require_one_line_error(run_cli({"run", cfg, "--set", "task.limit=10"}),
                           out + " was made by a different config (task.limit: 8 in the file, 10 now)" + fix);
    require_one_line_error(run_cli({"run", cfg, "--set", "runtime.token_budget=4096", "--set", "runtime.seed=3"}),
                           "(runtime.seed: 0 in the file, 3 now; runtime.token_budget: 0 in the file, 4096 now)");
    // Scored on a GPU: rounded differently, so not the same sweep, whatever runtime.device says now.
    const std::string gpu = copy_edited("gpu.h5", "f.attrs['config'] = f.attrs['config'].replace('device: cpu', 'device: cuda')");
    require_one_line_error(run_cli({"run", cfg, "--output", gpu, "--set", "runtime.device=auto"}),
                           gpu + " was made by a different config (runtime.device: cuda in the file, cpu now)" + fix);
  }
  CATCH_SECTION("a different config, refused before the importance that pruning curves would need") {
    const auto r = run_cli({"run", cfg, "--set", "importance.method=michel", "--set", "importance.limit=64", "--set",
                            "pruning.schedule=percent"});
    require_one_line_error(r, out + " was made by a different config (");
    CATCH_CHECK(r.err.find("importance on") == std::string::npos);
  }
  CATCH_SECTION("different weights in the same model folder") {
    fs::remove(model + "/model.safetensors");
    std::string weights = hs::test::read_file(real_model + "/model.safetensors");
    weights.back() ^= 1;  // the last byte of the last tensor
    hs::test::write_file(model + "/model.safetensors", weights);
    require_one_line_error(run_cli({"run", cfg}), out + " was made with different weights (model_sha256 ");
  }
  CATCH_SECTION("a different vocabulary in the same model folder") {
    // The same config, weights, masks and rows, but other token ids: only inputs_sha256 tells.
    std::string vocab = hs::test::read_file(model + "/vocab.txt");
    const size_t the = vocab.find("\nthe\n"), dot = vocab.find("\n.\n");
    CATCH_REQUIRE(the != std::string::npos);
    CATCH_REQUIRE(dot < the);  // so that editing "the" first leaves the offset of "." valid
    vocab.replace(the, 5, "\n.\n");  // swaps the two ids, every other line stays where it was
    vocab.replace(dot, 3, "\nthe\n");
    hs::test::write_file(model + "/vocab.txt", vocab);
    require_one_line_error(run_cli({"run", cfg}), out + " was made from different inputs: the examples' tokens or "
                                                        "the task head differ");
  }
  CATCH_SECTION("a different mask set") {
    const std::string m = copy_edited("masks.h5", "f['mask_names'][2] = '-L9'; f['masks'][2] = 1");
    require_one_line_error(run_cli({"run", cfg, "--output", m}),
                           m + " holds a different mask set (mask 2 is -L9 in the file, -L1 now)" + fix);
    const std::string g = copy_edited("gates.h5", "f['masks'][2, 3, 4] = 0");
    require_one_line_error(run_cli({"run", cfg, "--output", g}),
                           g + " holds a different mask set (mask 2 -L1 has different gates)" + fix);
  }
  CATCH_SECTION("different examples") {
    const std::string e = copy_edited("examples.h5", "f['examples/label'][5] = 4.25");
    require_one_line_error(run_cli({"run", cfg, "--output", e}), e + " holds different examples (example 5 is row 5 with label 4.25 in the file");
  }
  CATCH_SECTION("another headsweep version") {
    const std::string v = copy_edited("version.h5", "f.attrs['tool_version'] = '0.0.9'");
    require_one_line_error(run_cli({"run", cfg, "--output", v}),
                           v + " was written by a different headsweep (version 0.0.9 in the file, ");
  }
  CATCH_SECTION("another shard") {
    const std::string s = copy_edited("shard.h5", "");
    require_one_line_error(run_cli({"run", cfg, "--shard", "1/3", "--output", s}),
                           s + " holds the whole sweep, this run is shard 1 of 3");
  }
  CATCH_SECTION("not a results file, or a damaged one") {
    const std::string text = dir + "/text.h5";
    hs::test::write_file(text, "not HDF5\n");
    require_one_line_error(run_cli({"run", cfg, "--output", text}),
                           text + " exists but is not a readable results file (not an HDF5 file); delete it or "
                                  "choose another output.path");
    // overwrite replaces results files only: not this one, which could be the config or a data file
    require_one_line_error(run_cli({"run", cfg, "--output", text, "--set", "output.overwrite=true"}),
                           text + " is not a results file (HDF5), so output.overwrite does not replace it");
    const std::string cut = copy_edited("cut.h5", "");
    hs::test::write_file(cut, partial.substr(0, 3000));
    require_one_line_error(run_cli({"run", cfg, "--output", cut}), cut + " exists but is not a readable results file (");
    // Marked complete with masks missing, or with a flag that is neither 0 nor 1: damaged, not done.
    const std::string flag = copy_edited("flag.h5", "f.attrs['complete'] = 1");
    require_one_line_error(run_cli({"run", cfg, "--output", flag}),
                           flag + " exists but is damaged (marked complete, but 4 of this run's 7 masks are not "
                                  "scored in it); delete it or set output.overwrite: true");
    const std::string two = copy_edited("two.h5", "f.attrs['complete'] = 2");
    require_one_line_error(run_cli({"run", cfg, "--output", two}),
                           two + " exists but is not a readable results file (attribute complete is 2, expected 0 "
                                 "or 1); delete it or set output.overwrite: true");
    // Nor can a device or a pipe hold results, to resume or to replace (/dev/null is checked before
    // anything is written, so a failure here cannot harm it).
    for (const std::string& set : {"output.overwrite=false", "output.overwrite=true"})
      require_one_line_error(run_cli({"run", cfg, "--output", "/dev/null", "--set", set}),
                             "/dev/null is not a regular file (a device, a pipe or a socket), so it cannot hold results");
    const std::string fifo = dir + "/fifo";
    CATCH_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    require_one_line_error(run_cli({"validate", cfg, "--set", "output.path=" + fifo}), "is not a regular file");
  }
  CATCH_SECTION("knobs that cannot change results are not compared; overwrite starts over") {
    // runtime.device is compared as where the sweep runs: `auto` here is the CPU the file was made on,
    // and the file may have been begun on another CPU (device_name), which the log then says.
    edit(out, "f.attrs['device_name'] = 'Another CPU'");
    const auto r = run_cli({"run", cfg, "--set", "runtime.threads=2", "--set", "runtime.progress=none", "--set",
                            "runtime.device=auto"});
    CATCH_INFO(r.out << r.err);
    CATCH_REQUIRE(r.status == 0);
    CATCH_CHECK(r.err.find("3 of 7 masks already scored, 4 to go; it was begun on Another CPU, this run is on ") !=
                std::string::npos);
    CATCH_CHECK(r.out.find("7 masks (layer), 4 scored in") != std::string::npos);
    CATCH_CHECK(r.out.find("3 already in the file") != std::string::npos);
    const auto f = hs::io::ResultsFile::open(out);
    CATCH_CHECK(f.info().complete);
    CATCH_CHECK(f.masks_done() == std::vector<uint8_t>(7, 1));
    CATCH_CHECK(f.info().header.config_yaml.find("\n  device: cpu\n") != std::string::npos);
    CATCH_CHECK(!f.info().header.device_name.empty());
    const auto fresh = run_cli({"run", cfg, "--set", "output.overwrite=true"});
    CATCH_INFO(fresh.out << fresh.err);
    CATCH_REQUIRE(fresh.status == 0);
    CATCH_CHECK(fresh.out.find("7 masks (layer) in") != std::string::npos);
    CATCH_CHECK(fresh.err.find("progress: masks 7/7") != std::string::npos);
    CATCH_CHECK(fresh.err.find("resuming") == std::string::npos);
  }
  // A refused run changes nothing.
  if (fs::exists(out) && hs::io::ResultsFile::open(out).masks_done() != std::vector<uint8_t>(7, 1))
    CATCH_CHECK(hs::test::read_file(out) == partial);
}

CATCH_TEST_CASE("run --shard and SLURM arrays, then merge: equal to the unsharded run", "[cli][e2e][shard]") {
  HS_REQUIRE_MODEL(model);
  HS_REQUIRE_GLUE(glue);
  const std::string dir = hs::test::temp_dir("shards");
  const std::string out = dir + "/sweep.h5", full = dir + "/full.h5", cfg = dir + "/sweep.yaml";
  hs::test::write_file(cfg, config_text(model, glue, out, "single-head", 16, kAnalyses));
  const auto whole = run_cli({"run", cfg, "--output", full});
  CATCH_INFO(whole.out << whole.err);
  CATCH_REQUIRE(whole.status == 0);

  // Shard 0 by flag; shard 1 from an array with IDs 1-3 (--array=1-3); shard 2 from IDs 0-2.
  const auto s0 = run_cli({"run", cfg, "--shard", "0/3"});
  const auto s1 = run_cli({"run", cfg},
                          {"SLURM_ARRAY_TASK_ID=2", "SLURM_ARRAY_TASK_COUNT=3", "SLURM_ARRAY_TASK_MIN=1"});
  const auto s2 = run_cli({"run", cfg}, {"SLURM_ARRAY_TASK_ID=2", "SLURM_ARRAY_TASK_COUNT=3"});
  const std::vector<std::string> shards = {dir + "/sweep.shard-0-of-3.h5", dir + "/sweep.shard-1-of-3.h5",
                                           dir + "/sweep.shard-2-of-3.h5"};
  int64_t total = 0;
  std::vector<int> owner(73, -1);
  for (int k = 0; k < 3; ++k) {
    const auto& r = k == 0 ? s0 : k == 1 ? s1 : s2;
    CATCH_INFO("shard " << k << ": " << r.out << r.err);
    CATCH_REQUIRE(r.status == 0);
    CATCH_CHECK(r.err.find(fmt::format("headsweep: shard {} of 3 (", k)) != std::string::npos);
    CATCH_CHECK(r.out.find(fmt::format("shard {} of 3, ", k)) != std::string::npos);
    const auto f = hs::io::ResultsFile::open(shards[k]);
    CATCH_CHECK(f.info().complete);
    CATCH_CHECK(f.info().header.shard_index == k);
    CATCH_CHECK(f.info().header.shard_count == 3);
    CATCH_CHECK(f.masks().size() == 73u * 72u);  // every shard holds the full mask set
    const auto done = f.masks_done();
    for (int64_t n = 0; n < 73; ++n) {
      if (!done[n]) continue;
      CATCH_CHECK(owner[n] == -1);  // no mask in two shards
      owner[n] = k;
    }
    total += count_of(done);
    CATCH_CHECK(count_of(done) >= 20);
    CATCH_CHECK(count_of(done) <= 29);
  }
  CATCH_CHECK(s1.err.find("SLURM_ARRAY_TASK_ID=2, SLURM_ARRAY_TASK_COUNT=3, SLURM_ARRAY_TASK_MIN=1") != std::string::npos);
  CATCH_CHECK(total == 73);

  const std::string merged = dir + "/merged.h5";
  const auto m = run_cli({"merge", merged, shards[0], shards[1], shards[2]});
  CATCH_INFO(m.out << m.err);
  CATCH_REQUIRE(m.status == 0);
  CATCH_CHECK(m.out.find("merged 3 files into " + merged + ": 73 masks (single-head), 16 examples") != std::string::npos);
  CATCH_CHECK(m.out.find("baseline:  spearman") != std::string::npos);
  // The merged summary says what the unsharded run's says, line for line (but where the file is).
  {
    std::istringstream lines(whole.out.substr(whole.out.find('\n') + 1));
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("results: ", 0) == 0) continue;
      CATCH_INFO(m.out);
      CATCH_CHECK(m.out.find(line + "\n") != std::string::npos);
    }
    CATCH_CHECK(m.out.find("attention") != std::string::npos);
  }
  CATCH_CHECK(compare_with_h5py(merged, full, "created,merged_from"));
  CATCH_CHECK(hs::io::ResultsFile::open(merged).info().header.merged_from ==
              std::vector<std::string>{"sweep.shard-0-of-3.h5", "sweep.shard-1-of-3.h5", "sweep.shard-2-of-3.h5"});

  // Every error names the files.
  auto copy_edited = [&](int k, const std::string& name, const std::string& statements) {
    const std::string path = dir + "/" + name;
    fs::copy_file(shards[k], path, fs::copy_options::overwrite_existing);
    if (!statements.empty()) edit(path, statements);
    return path;
  };
  const std::string bad = dir + "/bad.h5";
  require_one_line_error(run_cli({"merge", bad, shards[0], shards[1]}), "no shard scored masks ");
  require_one_line_error(run_cli({"merge", bad, shards[0], shards[1]}), "(shard 2 of 3: no file of it was given)");
  const std::string dup = copy_edited(1, "dup.h5", "");
  require_one_line_error(run_cli({"merge", bad, shards[0], shards[1], dup, shards[2]}),
                         shards[1] + " and " + dup + " both scored mask ");
  const std::string cfg_edit = copy_edited(
      2, "config.h5", "f.attrs['config'] = f.attrs['config'].replace('limit: 16', 'limit: 17')");
  require_one_line_error(run_cli({"merge", bad, shards[0], shards[1], cfg_edit}),
                         cfg_edit + " was made by a different config (task.limit: 16 in " + shards[0] + ", 17 in " +
                             cfg_edit + "); only files of one sweep can be merged");
  // Shards scored on two kinds of GPU are one sweep; the merged file names both.
  const std::string other_gpu = copy_edited(1, "other-gpu.h5", "f.attrs['device_name'] = 'NVIDIA A100-SXM4-40GB'");
  const std::string both = dir + "/both.h5";
  const auto mixed = run_cli({"merge", both, shards[0], other_gpu, shards[2]});
  CATCH_INFO(mixed.out << mixed.err);
  CATCH_REQUIRE(mixed.status == 0);
  const std::string here = hs::io::ResultsFile::open(shards[0]).info().header.device_name;
  CATCH_CHECK(hs::io::ResultsFile::open(both).info().header.device_name == here + "; NVIDIA A100-SXM4-40GB");
  const std::string sha = copy_edited(2, "sha.h5", "f.attrs['model_sha256'] = '0' * 64");
  require_one_line_error(run_cli({"merge", bad, shards[0], shards[1], sha}), sha + " was made with different weights");
  const std::string inputs = copy_edited(2, "inputs.h5", "f.attrs['inputs_sha256'] = '0' * 64");
  require_one_line_error(run_cli({"merge", bad, shards[0], shards[1], inputs}), inputs + " was made from different inputs");
  const std::string masks = copy_edited(2, "masks.h5", "f['masks'][0, 0, 0] = 0");
  require_one_line_error(run_cli({"merge", bad, shards[0], shards[1], masks}),
                         masks + " holds a different mask set (mask 0 baseline has different gates)");
  const std::string rows = copy_edited(2, "rows.h5", "f['examples/row'][3] = 99");
  require_one_line_error(run_cli({"merge", bad, shards[0], shards[1], rows}), rows + " holds different examples (example 3");
  const std::string schema = copy_edited(2, "schema.h5", "f.attrs['schema_version'] = 2");
  require_one_line_error(run_cli({"merge", bad, shards[0], shards[1], schema}),
                         schema + ": results schema version 2 is newer than this headsweep reads (1)");
  require_one_line_error(run_cli({"merge", merged, shards[0], shards[1], shards[2]}),
                         merged + " exists (pass --overwrite to replace it)");
  // --overwrite replaces a results file, nothing else: not a config given first by mistake, not a device.
  const std::string yaml = dir + "/not-results.yaml";
  hs::test::write_file(yaml, "task:\n  name: stsb\n");
  require_one_line_error(run_cli({"merge", yaml, shards[0], shards[1], shards[2], "--overwrite"}),
                         yaml + " is not a results file (HDF5), so --overwrite does not replace it");
  CATCH_CHECK(hs::test::read_file(yaml) == "task:\n  name: stsb\n");
  require_one_line_error(run_cli({"merge", "/dev/null", shards[0], shards[1], shards[2], "--overwrite"}),
                         "/dev/null is not a regular file (a device, a pipe or a socket), so it cannot hold results");
  CATCH_CHECK_FALSE(fs::exists(bad));
  CATCH_CHECK(run_cli({"merge", merged, shards[2], shards[0], shards[1], "--overwrite"}).status == 0);
}
