// The headsweep command end to end: real checkpoint, real GLUE files, real HDF5 output read back by
// h5py, and every kind of bad input turned into exit status 2 with a one-line message naming it.
#include <sys/wait.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "test_env.h"

namespace fs = std::filesystem;
using hs::test::run_cli;

namespace {

std::string config_text(const std::string& model, const std::string& glue, const std::string& out,
                        const std::string& strategy = "single-head", int limit = 24, const std::string& task = "stsb") {
  return fmt::format(R"(model:
  path: {}
task:
  name: {}
  data_dir: {}
  limit: {}
sweep:
  strategy: {}
runtime:
  threads: 2
  progress: lines
output:
  path: {}
  overwrite: true
)",
                     model, task, glue, limit, strategy, out);
}

void require_one_line_error(const hs::test::CliResult& r, const std::string& needle) {
  CATCH_INFO("stderr: " << r.err);
  CATCH_CHECK(r.status == 2);
  CATCH_CHECK(r.err.find(needle) != std::string::npos);
  CATCH_CHECK(r.err.rfind("headsweep: error: ", 0) == 0);
  CATCH_CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

}  // namespace

CATCH_TEST_CASE("run: single-head sweep on STS-B writes a complete results file that h5py reads", "[cli][e2e]") {
  HS_REQUIRE_MODEL(model);
  HS_REQUIRE_GLUE(glue);
  const std::string dir = hs::test::temp_dir("run-single-head");
  const std::string out = dir + "/results.h5";
  hs::test::write_file(dir + "/sweep.yaml", config_text(model, glue, out));
  const auto r = run_cli({"run", dir + "/sweep.yaml"});
  CATCH_INFO(r.out << r.err);
  CATCH_REQUIRE(r.status == 0);
  CATCH_CHECK(r.out.find("baseline:  spearman") != std::string::npos);
  CATCH_CHECK(r.out.find("masks whose removal hurts spearman most") != std::string::npos);
  CATCH_CHECK(r.out.find("95% CI of the change") != std::string::npos);
  CATCH_CHECK(r.err.find("progress: masks 73/73") != std::string::npos);
  // Read back with Debian's h5py: shapes, attributes, descriptions, and the scores the CLI printed.
  const std::string check = hs::test::source_dir() + "/tests/cli/check_results.py";
  const std::string cmd =
      fmt::format("/usr/bin/python3 {} {} --masks 73 --examples 24 --layers 6 --heads 12 --bootstrap", check, out);
  CATCH_CHECK(std::system(cmd.c_str()) == 0);
}

CATCH_TEST_CASE("run: importance, its agreement with ablation and attention statistics, read back by h5py",
                "[cli][e2e][importance]") {
  HS_REQUIRE_MODEL(model);
  HS_REQUIRE_GLUE(glue);
  const std::string dir = hs::test::temp_dir("run-importance");
  const std::string out = dir + "/results.h5";
  hs::test::write_file(dir + "/sweep.yaml", config_text(model, glue, out, "single-head", 24) +
                                                "importance:\n  method: michel\n  split: dev\n  limit: 24\n"
                                                "attention:\n  statistics: true\n");
  const auto r = run_cli({"run", dir + "/sweep.yaml"});
  CATCH_INFO(r.out << r.err);
  CATCH_REQUIRE(r.status == 0);
  CATCH_CHECK(r.out.find("michel importance (dev split, 24 examples), most important:") != std::string::npos);
  CATCH_CHECK(r.out.find("agreement with the single-head ablation drops (Spearman over 72 heads): michel") !=
              std::string::npos);
  CATCH_CHECK(r.out.find("attention on sep  , most:") != std::string::npos);
  // Heads as L{l}.H{h}, each with its value, largest first.
  CATCH_CHECK(std::regex_search(r.out, std::regex(R"(most important:( L[0-5]\.H([0-9]|1[01]) [01]\.[0-9]{3}){5}\n)")));
  CATCH_CHECK(std::regex_search(r.out, std::regex(R"(attention on cls  , most:( L[0-5]\.H([0-9]|1[01]) [01]\.[0-9]{2}){3}\n)")));
  const std::string cmd = fmt::format("/usr/bin/python3 {}/tests/cli/check_analyses.py {} michel",
                                      hs::test::source_dir(), out);
  CATCH_CHECK(std::system(cmd.c_str()) == 0);
  // A split the task does not have is an input error naming it, and leaves no file.
  const std::string bad = dir + "/bad.h5";
  hs::test::write_file(dir + "/bad.yaml", config_text(model, glue, bad, "baseline", 8) +
                                              "importance:\n  method: bertology\n  split: validation_x\n");
  const auto e = run_cli({"run", dir + "/bad.yaml"});
  CATCH_CHECK(e.status == 2);
  CATCH_CHECK(e.err.find("validation_x") != std::string::npos);
  CATCH_CHECK_FALSE(std::filesystem::exists(bad));
}

CATCH_TEST_CASE("run: pruning curves by importance and random orders, read back by h5py", "[cli][e2e][pruning]") {
  HS_REQUIRE_MODEL(model);
  HS_REQUIRE_GLUE(glue);
  const std::string dir = hs::test::temp_dir("run-pruning");
  const std::string out = dir + "/results.h5";
  // The naive executor: the shards' runs and the unsharded one then make exactly the same GEMMs. The
  // trie stacks a shard's masks differently, and BLAS kernels may round a row differently in a
  // taller GEMM (seen as 1e-9 in a Pearson with OpenBLAS's generic x86 kernels).
  std::string text = config_text(model, glue, out, "baseline", 24);
  text.replace(text.find("  threads: 2\n"), 13, "  threads: 2\n  executor: naive\n");
  hs::test::write_file(dir + "/sweep.yaml",
                       text +
                           "importance:\n  method: michel\n  split: dev\n  limit: 24\n"
                           "pruning:\n  schedule: percent\n  fractions: [0.1, 0.3, 0.5]\n"
                           "  orders: [importance, random]\n  random_orders: 2\n  min_heads_per_layer: 1\n");
  const auto r = run_cli({"run", dir + "/sweep.yaml"});
  CATCH_INFO(r.out << r.err);
  CATCH_REQUIRE(r.status == 0);
  CATCH_CHECK(r.out.find("pruning, importance order (spearman): 0% ") != std::string::npos);
  CATCH_CHECK(r.out.find("largest fraction pruned with every drop <= 0.01:") != std::string::npos);
  const std::string cmd = fmt::format("/usr/bin/python3 {}/tests/cli/check_pruning.py {} importance random-0 random-1",
                                      hs::test::source_dir(), out);
  CATCH_CHECK(std::system(cmd.c_str()) == 0);
  // Two shards merged: the curves, importance and bootstrap equal the unsharded run's.
  const std::string cfg = dir + "/sweep.yaml";
  CATCH_REQUIRE(run_cli({"run", cfg, "--shard", "0/2", "--output", dir + "/s0.h5"}).status == 0);
  CATCH_REQUIRE(run_cli({"run", cfg, "--shard", "1/2", "--output", dir + "/s1.h5"}).status == 0);
  const auto m = run_cli({"merge", dir + "/merged.h5", dir + "/s0.h5", dir + "/s1.h5"});
  CATCH_INFO(m.out << m.err);
  CATCH_REQUIRE(m.status == 0);
  CATCH_CHECK(m.out.find("pruning, importance order") != std::string::npos);
  const std::string same = fmt::format("/usr/bin/python3 {}/tests/cli/compare_results.py {} {} --ignore-attrs "
                                       "created,merged_from",
                                       hs::test::source_dir(), out, dir + "/merged.h5");
  CATCH_CHECK(std::system(same.c_str()) == 0);
  // The importance order without an importance method is refused before any work.
  hs::test::write_file(dir + "/bad.yaml", config_text(model, glue, dir + "/bad.h5", "baseline", 8) +
                                              "pruning:\n  schedule: count\n");
  const auto e = run_cli({"run", dir + "/bad.yaml"});
  CATCH_CHECK(e.status == 2);
  CATCH_CHECK(e.err.find("pruning.orders: the importance order needs importance.method") != std::string::npos);
}

CATCH_TEST_CASE("experiments/michel2019: configs validate, and table.md is make_table.py's reading of the results",
                "[cli][experiments]") {
  HS_REQUIRE_MODEL(model);
  const std::string src = hs::test::source_dir();
  // Every option valid; the paths (GLUE data, the MNLI checkpoint) are the user's, so stand-ins here.
  const std::string glue_stand_in = hs::test::temp_dir("michel2019-glue");
  for (const std::string cfg : {"stsb-heads", "stsb-pruning", "stsb-pruning-recompute", "mnli"}) {
    const auto v = run_cli({"validate", src + "/experiments/michel2019/" + cfg + ".yaml", "--set", "model.path=" + model},
                           {"GLUE_DIR=" + glue_stand_in, "MNLI_MODEL=" + model});
    CATCH_INFO(cfg << ": " << v.err);
    if (cfg != "mnli") {
      CATCH_CHECK(v.status == 0);
    } else {
      // The stand-in has no classifier, which validate checks last: every other option passed.
      CATCH_CHECK(v.status == 2);
      CATCH_CHECK(v.err.find("model.head: auto (similarity): similarity scores sentence pairs by cosine") !=
                  std::string::npos);
    }
  }
  // The committed table must be regenerable from the committed HDF5 files, number for number.
  const std::string dir = hs::test::temp_dir("michel2019-table");
  const std::string res = src + "/results/michel2019";
  const std::string cmd = fmt::format(
      "/usr/bin/python3 {0}/experiments/michel2019/make_table.py {1}/stsb-heads.h5 {1}/stsb-pruning.h5 "
      "{1}/stsb-pruning-recompute.h5 > {2}/table.md",
      src, res, dir);
  CATCH_REQUIRE(std::system(cmd.c_str()) == 0);
  CATCH_CHECK(hs::test::read_file(dir + "/table.md") == hs::test::read_file(res + "/table.md"));
}

CATCH_TEST_CASE("run: the full STS-B dev baseline equals sentence-transformers' Spearman", "[cli][e2e][golden]") {
  HS_REQUIRE_MODEL(model);
  HS_REQUIRE_GLUE(glue);
  const std::string dir = hs::test::temp_dir("run-baseline");
  const std::string out = dir + "/baseline.h5";
  hs::test::write_file(dir + "/baseline.yaml", config_text(model, glue, out, "baseline", 0));
  const auto r = run_cli({"run", dir + "/baseline.yaml"});
  CATCH_INFO(r.out << r.err);
  CATCH_REQUIRE(r.status == 0);
  std::ifstream ref_file(hs::test::golden_dir() + "/stsb_dev_reference.json");
  const nlohmann::json ref = nlohmann::json::parse(ref_file);
  // Scores and the largest per-pair cosine difference from sentence-transformers' own cosines.
  const std::string cmd = fmt::format(
      "/usr/bin/python3 -c \"import h5py,json,numpy as np; f=h5py.File('{}','r'); "
      "ref=np.array(json.load(open('{}'))['cosines']); "
      "print(repr(f['scores/spearman'][0]), repr(f['scores/pearson'][0]), np.abs(f['predictions'][0]-ref).max())\" > {}/scores.txt",
      out, hs::test::golden_dir() + "/stsb_dev_reference.json", dir);
  CATCH_REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream s(dir + "/scores.txt");
  double spearman = 0, pearson = 0, max_cos_diff = 1;
  s >> spearman >> pearson >> max_cos_diff;
  CATCH_INFO("max |cosine - sentence-transformers cosine| " << max_cos_diff);
  // Both are fp32 forwards that sum in different orders; the reference is rounded to 7 digits. Seen
  // here: 2.3e-7.
  CATCH_CHECK(max_cos_diff <= 1e-6);
  CATCH_INFO("ours: spearman " << spearman << " pearson " << pearson << "; sentence-transformers: "
             << ref["spearman"].get<double>() << " " << ref["pearson"].get<double>());
  // Cosines that close move Pearson by ~1e-9 and swap at most near-tied ranks, each swap moving
  // Spearman by ~1e-9 over 1500 pairs (seen here: 0 and 1.3e-9 apart).
  CATCH_CHECK(std::abs(spearman - ref["spearman"].get<double>()) <= 1e-6);
  CATCH_CHECK(std::abs(pearson - ref["pearson"].get<double>()) <= 1e-6);
}

CATCH_TEST_CASE("run: task.sample and importance.sample draw rows at random, recorded in /examples/row",
                "[cli][e2e][golden]") {
  HS_REQUIRE_MODEL(model);
  HS_REQUIRE_GLUE(glue);
  const std::string dir = hs::test::temp_dir("run-sample");
  const std::string out = dir + "/sample.h5";
  hs::test::write_file(dir + "/sample.yaml", config_text(model, glue, out, "baseline", 40) +
                                                 "importance:\n  method: michel\n  split: dev\n  limit: 10\n"
                                                 "  sample: random\n");
  const auto r = run_cli({"run", dir + "/sample.yaml", "--set", "task.sample=random"});
  CATCH_INFO(r.out << r.err);
  CATCH_REQUIRE(r.status == 0);
  CATCH_CHECK(r.out.find("michel importance (dev split, 10 examples)") != std::string::npos);
  // The rows are distinct, in file order, spread past the 625 caption pairs STS-B dev opens with, and
  // each prediction is sentence-transformers' cosine for that row's pair: the scored text is the
  // row's own.
  const std::string cmd = fmt::format(
      "/usr/bin/python3 -c \"import h5py,json,numpy as np; f=h5py.File('{}','r'); "
      "ref=np.array(json.load(open('{}'))['cosines']); rows=f['examples/row'][()]; "
      "assert len(rows)==40 and (np.diff(rows)>0).all() and rows.max()>=625, rows; "
      "d=np.abs(f['predictions'][0]-ref[rows]).max(); assert d<=1e-6, d; "
      "assert int(f['importance/michel'].attrs['examples'])==10\"",
      out, hs::test::golden_dir() + "/stsb_dev_reference.json");
  CATCH_CHECK(std::system(cmd.c_str()) == 0);
  // The draw is the seed's: a rerun with the same seed finds its file complete, another seed is a
  // different sweep and is refused (the resume compares the config).
  CATCH_CHECK(run_cli({"run", dir + "/sample.yaml", "--set", "task.sample=random"}).status == 0);
  const auto other = run_cli({"run", dir + "/sample.yaml", "--set", "task.sample=random", "--set",
                              "runtime.seed=5", "--set", "output.overwrite=false"});
  CATCH_CHECK(other.status == 2);
}

CATCH_TEST_CASE("info, data, validate and env describe their inputs", "[cli]") {
  HS_REQUIRE_MODEL(model);
  HS_REQUIRE_GLUE(glue);
  const auto info = run_cli({"info", model});
  CATCH_CHECK(info.status == 0);
  CATCH_CHECK(info.out.find("layers (L)     6") != std::string::npos);
  CATCH_CHECK(info.out.find("heads (H)      12 per layer, 72 in all") != std::string::npos);
  CATCH_CHECK(info.out.find("F32") != std::string::npos);

  const auto data = run_cli({"data", "stsb", glue, "--model", model});
  CATCH_INFO(data.out << data.err);
  CATCH_CHECK(data.status == 0);
  CATCH_CHECK(data.out.find("1500") != std::string::npos);

  // The quickstart's model path is relative to HEADSWEEP_MODELS.
  const std::string models = std::filesystem::path(model).parent_path().string();
  const auto valid = run_cli({"validate", hs::test::source_dir() + "/configs/quickstart.yaml"},
                             {"GLUE_DIR=" + glue, "HEADSWEEP_MODELS=" + models});
  CATCH_INFO(valid.err);
  CATCH_CHECK(valid.status == 0);
  // validate makes the run's checks that need no model: what run would refuse, validate refuses,
  // pointing at where the value was set.
  for (const auto& [set, message] : std::vector<std::pair<std::string, std::string>>{
           {"runtime.dtype=bf16", "--set runtime.dtype=bf16: runtime.dtype: bf16, but the sweep runs on the CPU"},
           {"runtime.attention=kernel",
            "--set runtime.attention=kernel: runtime.attention: kernel, but the sweep runs on the CPU"},
           {"task.split=test", "--set task.split=test: task.split: unknown split 'test' for task stsb (known: train, dev)"},
           {"pruning.schedule=percent", "pruning.orders: the importance order needs importance.method"}}) {
    const auto bad = run_cli({"validate", hs::test::source_dir() + "/configs/quickstart.yaml", "--set", set,
                              "--set", "importance.method=none"},
                             {"GLUE_DIR=" + glue, "HEADSWEEP_MODELS=" + models});
    CATCH_INFO(set << ": " << bad.err);
    CATCH_CHECK(bad.status == 2);
    CATCH_CHECK(bad.err.find(message) != std::string::npos);
  }
  // A config for GPU nodes validates where there is no such GPU (a login node): runtime.dtype and
  // runtime.attention are checked against the device the config names, and the missing device is a
  // note. A run here refuses it.
  {
    const std::vector<std::string> gpu_sets = {"--set", "runtime.device=cuda:99", "--set", "runtime.dtype=bf16",
                                               "--set", "runtime.attention=kernel"};
    std::vector<std::string> args = {"validate", hs::test::source_dir() + "/configs/quickstart.yaml"};
    args.insert(args.end(), gpu_sets.begin(), gpu_sets.end());
    const auto env = std::vector<std::string>{"GLUE_DIR=" + glue, "HEADSWEEP_MODELS=" + models};
    const auto gpu = run_cli(args, env);
    CATCH_INFO(gpu.out << gpu.err);
    CATCH_CHECK(gpu.status == 0);
    CATCH_CHECK(gpu.out.find("quickstart.yaml: ok") != std::string::npos);
    CATCH_CHECK(gpu.err.find("headsweep: runtime.device: cuda:99, but ") != std::string::npos);
    CATCH_CHECK(gpu.err.find("(on this machine; the config itself is valid)") != std::string::npos);
    args[0] = "run";
    const auto run = run_cli(args, env);
    CATCH_INFO(run.err);
    CATCH_CHECK(run.status == 2);
    CATCH_CHECK(run.err.find("--set runtime.device=cuda:99: runtime.device: cuda:99, but ") != std::string::npos);
  }
  // What the model's config.json decides is validated too, as a run checks it: here a layer past
  // the model's six.
  {
    const auto layer = run_cli({"validate", hs::test::source_dir() + "/configs/quickstart.yaml", "--set",
                                "sweep.strategy=exhaustive-layer", "--set", "sweep.layer=6"},
                               {"GLUE_DIR=" + glue, "HEADSWEEP_MODELS=" + models});
    CATCH_INFO(layer.err);
    CATCH_CHECK(layer.status == 2);
    CATCH_CHECK(layer.err.find("--set sweep.layer=6: sweep.layer: 6, but the model has 6 layers (0 to 5)") !=
                std::string::npos);
  }
  // Set in the file, the value's line and column; an option left at its default, its section's.
  {
    const std::string dir = hs::test::temp_dir("validate-where");
    std::string text = hs::test::read_file(hs::test::source_dir() + "/configs/quickstart.yaml");
    text.replace(text.find("  threads: 0\n"), 13, "  threads: 0\n  dtype: fp16\n");
    text.replace(text.find("  limit: 1000\n"), 14, "  limit: 1000\n  split: validation2\n");
    hs::test::write_file(dir + "/where.yaml", text);
    const int dtype_line = static_cast<int>(std::count(text.begin(), text.begin() + text.find("  dtype: fp16"), '\n')) + 1;
    const int split_line =
        static_cast<int>(std::count(text.begin(), text.begin() + text.find("  split: validation2"), '\n')) + 1;
    const auto env = std::vector<std::string>{"GLUE_DIR=" + glue, "HEADSWEEP_MODELS=" + models};
    const auto split = run_cli({"validate", dir + "/where.yaml"}, env);
    CATCH_INFO(split.err);
    CATCH_CHECK(split.status == 2);
    CATCH_CHECK(split.err.find(fmt::format("{}/where.yaml:{}:10: importance.split: unknown split 'validation2' for "
                                           "task stsb",
                                           dir, split_line)) != std::string::npos);
    const auto dtype = run_cli({"validate", dir + "/where.yaml", "--set", "importance.split=auto"}, env);
    CATCH_INFO(dtype.err);
    CATCH_CHECK(dtype.status == 2);
    CATCH_CHECK(dtype.err.find(fmt::format("{}/where.yaml:{}:10: runtime.dtype: fp16, but the sweep runs on the CPU",
                                           dir, dtype_line)) != std::string::npos);
    const int pruning_line = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
    hs::test::write_file(dir + "/orders.yaml", text + "pruning:\n  schedule: count\n  orders: [random, ablation]\n");
    const auto orders =
        run_cli({"validate", dir + "/orders.yaml", "--set", "importance.split=auto", "--set", "runtime.dtype=fp32"}, env);
    CATCH_INFO(orders.err);
    CATCH_CHECK(orders.status == 2);
    CATCH_CHECK(orders.err.find(fmt::format("{}/orders.yaml:{}:11: pruning.orders: the ablation order needs "
                                            "pruning.ablation_from",
                                            dir, pruning_line + 2)) != std::string::npos);
  }

  const auto env = run_cli({"env"});
  CATCH_INFO(env.out << env.err);
  CATCH_CHECK(env.status == 0);
  // The GEMMs must not run on the reference BLAS: Debian's libtorch calls the system's BLAS, which
  // setup makes OpenBLAS; PyTorch's own builds carry MKL.
  const bool openblas = env.out.find("BLAS        OpenBLAS") != std::string::npos;
  CATCH_CHECK((openblas || env.out.find("BLAS        MKL (linked into libtorch)") != std::string::npos));
  CATCH_CHECK(env.out.find("GFLOP/s") != std::string::npos);
  // The CPU's model, as results files record it (device_name), from /proc/cpuinfo.
  {
    const std::string cpuinfo = hs::test::read_file("/proc/cpuinfo");
    const size_t at = cpuinfo.find("model name");
    const size_t start = cpuinfo.find_first_not_of(" \t", cpuinfo.find(':', at) + 1);
    const std::string model = at == std::string::npos ? "cpu" : cpuinfo.substr(start, cpuinfo.find('\n', start) - start);
    CATCH_CHECK(env.out.find("CPU         " + model + "\n") != std::string::npos);
  }
  // The hint to set OPENBLAS_CORETYPE: exactly when OpenBLAS fell back to its generic kernels on a
  // CPU with AVX2 or AVX-512 (Debian's OpenBLAS does not know e.g. Sapphire Rapids) and it is unset.
  if (openblas) {
    const std::string cpu = hs::test::read_file("/proc/cpuinfo");
    const bool wide = cpu.find(" avx2") != std::string::npos || cpu.find(" avx512f") != std::string::npos;
    const bool generic = env.out.find("BLAS core   Prescott") != std::string::npos;
    CATCH_INFO("generic kernels " << generic << ", AVX2 or AVX-512 " << wide);
    if (!std::getenv("OPENBLAS_CORETYPE")) {
      CATCH_CHECK((env.out.find("BLAS hint   OpenBLAS did not recognise this CPU") != std::string::npos) ==
                  (generic && wide));
    }
    // Asked for by name, the generic kernels draw no hint.
    const auto chosen = run_cli({"env"}, {"OPENBLAS_CORETYPE=Prescott"});
    CATCH_CHECK(chosen.out.find("BLAS core   Prescott") != std::string::npos);
    CATCH_CHECK(chosen.out.find("BLAS hint") == std::string::npos);
  }
  // The check can fail: with the reference BLAS put first, env says so.
  const std::string reference_blas = "/usr/lib/x86_64-linux-gnu/blas";
  if (openblas && fs::exists(reference_blas + "/libblas.so.3")) {
    const auto slow = run_cli({"env", "--threads", "1"}, {"LD_LIBRARY_PATH=" + reference_blas});
    CATCH_INFO(slow.out);
    CATCH_CHECK(slow.out.find("BLAS        reference BLAS") != std::string::npos);
  }

  for (const char* sub : {"run", "validate", "info", "data", "env", "merge"}) {
    const auto help = run_cli({sub, "--help"});
    CATCH_CHECK(help.status == 0);
    CATCH_CHECK(help.out.find("Usage") != std::string::npos);
  }
}

CATCH_TEST_CASE("bad inputs exit with status 2 and one line naming the problem", "[cli][errors]") {
  HS_REQUIRE_MODEL(model);
  HS_REQUIRE_GLUE(glue);
  const std::string dir = hs::test::temp_dir("bad-inputs");
  const std::string out = dir + "/out.h5";
  auto run_with = [&](const std::string& name, const std::string& yaml) {
    hs::test::write_file(dir + "/" + name + ".yaml", yaml);
    return run_cli({"run", dir + "/" + name + ".yaml"});
  };

  CATCH_SECTION("missing model directory") {
    const auto r = run_with("nomodel", config_text(dir + "/no-such-model", glue, out));
    require_one_line_error(r, dir + "/no-such-model");
  }
  CATCH_SECTION("corrupt safetensors") {
    const std::string m = hs::test::model_copy(model, hs::test::temp_dir("corrupt-model"));
    fs::remove(m + "/model.safetensors");
    const std::string whole = hs::test::read_file(model + "/model.safetensors");
    hs::test::write_file(m + "/model.safetensors", whole.substr(0, 4000));  // header cut short
    const auto r = run_with("corrupt", config_text(m, glue, out));
    require_one_line_error(r, m + "/model.safetensors");
  }
  CATCH_SECTION("shape mismatch between config.json and the weights") {
    const std::string m = hs::test::model_copy(model, hs::test::temp_dir("shape-model"));
    std::string cfg = hs::test::read_file(m + "/config.json");
    cfg.replace(cfg.find("\"intermediate_size\": 1536"), 25, "\"intermediate_size\": 1024");
    hs::test::write_file(m + "/config.json", cfg);
    const auto r = run_with("shape", config_text(m, glue, out));
    require_one_line_error(r, "encoder.layer.0.intermediate.dense.weight has shape 1536x384, expected 1024x384");
  }
  CATCH_SECTION("more layers in config.json than in the weights: info refuses it as run does") {
    const std::string m = hs::test::model_copy(model, hs::test::temp_dir("layers-model"));
    std::string cfg = hs::test::read_file(m + "/config.json");
    const std::string six = "\"num_hidden_layers\": 6";
    cfg.replace(cfg.find(six), six.size(), "\"num_hidden_layers\": 7");
    hs::test::write_file(m + "/config.json", cfg);
    const std::string missing = m + "/model.safetensors: missing tensor encoder.layer.6.attention.self.query.weight";
    require_one_line_error(run_cli({"info", m}), missing);
    require_one_line_error(run_with("layers", config_text(m, glue, out)), missing);
  }
  CATCH_SECTION("usage errors") {
    require_one_line_error(run_cli({"bogus"}), "unknown command 'bogus' (commands: run, validate, info, data, env, merge)");
    require_one_line_error(run_cli({"run", dir + "/x.yaml", "--frobnicate"}), "--frobnicate");
    require_one_line_error(run_cli({"env", "--threads", "-1"}), "--threads: Value -1 not in range 0 to 4096");
    require_one_line_error(run_cli({"data", "stsb", glue, "--max-seq-len", "1"}), "--max-seq-len: Value 1 not in range");
    require_one_line_error(run_cli({"info", glue + "/STS-B/dev.tsv"}), glue + "/STS-B/dev.tsv: is a file, not a model folder");
    hs::test::write_file(dir + "/ok.yaml", config_text(model, glue, out));
    require_one_line_error(run_cli({"run", dir + "/ok.yaml", "--shard", ""}), "--shard : expected INDEX/COUNT");
    require_one_line_error(run_cli({"run", dir + "/ok.yaml", "--output", ""}), "--output: empty path");
    fs::create_directories(dir + "/folder.yaml");
    require_one_line_error(run_cli({"run", dir + "/folder.yaml"}), dir + "/folder.yaml: is a folder, not a config file");
    // Control characters that input carries into a message are escaped: still one line.
    require_one_line_error(run_cli({"run", dir + "/two\nlines\t.yaml"}), dir + "/two\\nlines\\t.yaml: cannot read the config");
  }
  CATCH_SECTION("a pruning.ablation_from file without single-head scores, refused before any forward pass") {
    const std::string base = dir + "/baseline.h5";
    CATCH_REQUIRE(run_with("base", config_text(model, glue, base, "baseline", 8)).status == 0);
    const auto r = run_with("ablation", config_text(model, glue, out, "baseline", 8) +
                                            "importance:\n  method: michel\n  limit: 64\n"
                                            "pruning:\n  schedule: percent\n  orders: [importance, ablation]\n"
                                            "  ablation_from: " + base + "\n");
    require_one_line_error(r, "ablation.yaml:21:18: pruning.ablation_from: " + base +
                                  " has no scored mask removing only L0.H0");
    CATCH_CHECK(r.err.find("importance on") == std::string::npos);  // the importance never started
    // validate reads the file too, and says the same
    require_one_line_error(run_cli({"validate", dir + "/ablation.yaml"}),
                           "ablation.yaml:21:18: pruning.ablation_from: " + base + " has no scored mask removing only L0.H0");
    fs::remove(base);
    // A file not there yet may come from an earlier job of the study: validate notes it, a run refuses.
    const auto pending = run_cli({"validate", dir + "/ablation.yaml"});
    CATCH_INFO(pending.err);
    CATCH_CHECK(pending.status == 0);
    CATCH_CHECK(pending.err.find("ablation.yaml:21:18: pruning.ablation_from: " + base +
                                 " does not exist yet; a run needs it") != std::string::npos);
    require_one_line_error(run_cli({"run", dir + "/ablation.yaml"}),
                           "ablation.yaml:21:18: pruning.ablation_from: " + base + ": no such file");
    // The model has 12 heads per layer: keeping 12 prunes nothing, which is a mistake, not a curve.
    const auto keep = run_with("keep", config_text(model, glue, out, "baseline", 8) +
                                           "pruning:\n  schedule: percent\n  orders: [random]\n  min_heads_per_layer: 12\n");
    require_one_line_error(keep, "keep.yaml:18:24: pruning.min_heads_per_layer: 12, but the model has 12 heads per "
                                 "layer, so no head could be pruned");
    require_one_line_error(run_cli({"validate", dir + "/keep.yaml"}), "keep.yaml:18:24: pruning.min_heads_per_layer: 12");
  }
  CATCH_SECTION("a quote left open in the config") {
    // yaml-cpp would read it as a string running to the end of the file, and report the options
    // after it as missing.
    std::string text = config_text(model, glue, out);
    text.replace(text.find("  path: " + model), 8 + model.size(), "  path: \"" + model);
    const auto r = run_with("quote", text);
    require_one_line_error(r, dir + "/quote.yaml:2:9: model.path: the double quote opened here is not closed on this line");
  }
  CATCH_SECTION("non-finite values in a weight") {
    const std::string m = hs::test::model_copy(model, hs::test::temp_dir("nan-model"));
    std::string bytes = hs::test::read_file(model + "/model.safetensors");
    uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    const nlohmann::json header = nlohmann::json::parse(bytes.substr(8, n));
    const std::string name = "encoder.layer.0.attention.output.dense.weight";
    const std::string key = header.contains(name) ? name : "bert." + name;
    const size_t at = 8 + n + header.at(key).at("data_offsets")[0].get<size_t>();
    for (size_t i = 0; i < 4000; ++i) bytes[at + i] = '\xff';  // 1,000 float32 NaNs
    fs::remove(m + "/model.safetensors");
    hs::test::write_file(m + "/model.safetensors", bytes);
    const auto r = run_with("nan", config_text(m, glue, out));
    require_one_line_error(r, m + "/model.safetensors: tensor " + key + " holds 1000 non-finite values (NaN or inf)");
    CATCH_CHECK_FALSE(fs::exists(out));
  }
  CATCH_SECTION("vocab.txt longer than the embedding table") {
    const std::string m = hs::test::model_copy(model, hs::test::temp_dir("vocab-model"));
    std::ofstream(m + "/vocab.txt", std::ios::app) << "zzqqxtoken\n";
    const auto r = run_with("vocab", config_text(m, glue, out));
    require_one_line_error(r, m + "/vocab.txt: 30523 entries, but config.json's vocab_size is 30522");
    CATCH_CHECK_FALSE(fs::exists(out));
  }
  CATCH_SECTION("a results file the disk refuses (a file size limit, as a full disk or a quota)") {
    hs::test::write_file(dir + "/fsize.yaml", config_text(model, glue, out));
    // SIGXFSZ ignored, so that a write past the limit fails with EFBIG instead of killing the run.
    const std::string cmd = fmt::format("GLUE_DIR={} sh -c \"trap '' XFSZ; ulimit -f 8; exec {} run {}/fsize.yaml\" "
                                        ">{}/fsize.out 2>{}/fsize.err",
                                        glue, hs::test::binary(), dir, dir, dir);
    const int raw = std::system(cmd.c_str());
    hs::test::CliResult r;
    r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    r.err = hs::test::read_file(dir + "/fsize.err");
    require_one_line_error(r, out + ": cannot close the new results file: File too large");
    CATCH_CHECK_FALSE(fs::exists(out));
  }
  CATCH_SECTION("unknown task") {
    const auto r = run_with("task", config_text(model, glue, out, "single-head", 24, "stsc"));
    require_one_line_error(r, "task.name");
  }
  CATCH_SECTION("missing TSV") {
    const auto r = run_with("notsv", config_text(model, dir + "/no-glue", out));
    require_one_line_error(r, dir + "/no-glue");
  }
  CATCH_SECTION("malformed TSV row") {
    const std::string tsv = hs::test::read_file(glue + "/STS-B/dev.tsv");
    std::string broken = tsv.substr(0, tsv.find('\n', tsv.find('\n') + 1) + 1);  // header + row 1
    broken += "bad row without enough tabs\n";
    hs::test::write_file(dir + "/glue/STS-B/dev.tsv", broken);
    const auto r = run_with("badtsv", config_text(model, dir + "/glue", out));
    require_one_line_error(r, dir + "/glue/STS-B/dev.tsv:3");
  }
  CATCH_SECTION("bad YAML") {
    const auto r = run_with("badyaml", "model:\n  path: x\ntask: [unclosed\n");
    require_one_line_error(r, dir + "/badyaml.yaml:");
  }
  CATCH_SECTION("unknown key") {
    const auto r = run_with("unknownkey", config_text(model, glue, out) + "extra:\n  key: 1\n");
    require_one_line_error(r, dir + "/unknownkey.yaml:15:1");
  }
  CATCH_SECTION("unwritable output") {
    hs::test::write_file(dir + "/a-file", "x");
    const auto r = run_with("unwritable", config_text(model, glue, dir + "/a-file/out.h5"));
    require_one_line_error(r, "output.path");
    CATCH_CHECK(!fs::exists(dir + "/a-file/out.h5"));
  }
  CATCH_SECTION("a CUDA device that is not there") {
    hs::test::write_file(dir + "/cuda.yaml", config_text(model, glue, out));
    // Which error depends on the build and the machine, as env reports them: a CPU build, a CUDA
    // build without a device, or one with N devices asked for device N.
    const std::string env_out = run_cli({"env"}).out;
    const size_t line = env_out.find("CUDA        ");
    CATCH_REQUIRE(line != std::string::npos);
    const std::string cuda = env_out.substr(line, env_out.find('\n', line) - line);
    const size_t at = cuda.find("built, ");
    std::string device = "cuda", why;
    if (at == std::string::npos) {
      why = "this headsweep was built without CUDA";
    } else if (cuda.compare(at, 26, "built, no device available") == 0) {
      why = "no CUDA device is available";
    } else {
      const int n = std::stoi(cuda.substr(at + 7));
      device = fmt::format("cuda:{}", n);
      why = fmt::format("only {} CUDA device(s) are available", n);
    }
    const auto r = run_cli({"run", dir + "/cuda.yaml", "--set", "runtime.device=" + device});
    require_one_line_error(r, fmt::format("--set runtime.device={0}: runtime.device: {0}, but {1}", device, why));
  }
  CATCH_SECTION("half precision asked for on the CPU") {
    hs::test::write_file(dir + "/bf16.yaml", config_text(model, glue, out));
    const auto r = run_cli({"run", dir + "/bf16.yaml", "--set", "runtime.dtype=bf16"});
    require_one_line_error(r, "--set runtime.dtype=bf16: runtime.dtype: bf16, but the sweep runs on the CPU");
  }
  CATCH_SECTION("a CUDA attention asked for on the CPU") {
    hs::test::write_file(dir + "/attention.yaml", config_text(model, glue, out));
    const auto r = run_cli({"run", dir + "/attention.yaml", "--set", "runtime.attention=kernel"});
    require_one_line_error(r, "--set runtime.attention=kernel: runtime.attention: kernel, but the sweep runs on the CPU");
  }
  // None of the failures may leave a results file behind.
  CATCH_CHECK_FALSE(fs::exists(out));
}
