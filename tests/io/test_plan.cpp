#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <catch2/catch.hpp>
#include <hdf5.h>

#include "io/plan.h"
#include "plan_fixtures.h"
#include "util/error.h"
#include "temp_dir.h"

using namespace hs::io;
using hs::io::test::kMinimalConfig;
using hs::io::test::load;
namespace fs = std::filesystem;

using hs::test::TempDir;

namespace {

void write_text(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

}  // namespace

CATCH_TEST_CASE("a minimal config gets every default", "[io][plan]") {
  const Plan p = load(kMinimalConfig);
  CATCH_CHECK(p.model.path == "/models/bert");
  CATCH_CHECK(p.model.head == "auto");
  CATCH_CHECK(p.model.pooling == "auto");
  for (const char* pooling : {"mean", "cls", "max"})
    CATCH_CHECK(load(kMinimalConfig, {std::string("model.pooling=") + pooling}).model.pooling == pooling);
  CATCH_CHECK(p.task.name == "mnli");
  CATCH_CHECK(p.task.data_dir == "/data/glue");
  CATCH_CHECK(p.task.split == "dev");
  CATCH_CHECK(p.task.max_seq_len == 128);
  CATCH_CHECK(p.task.limit == 0);
  CATCH_CHECK(p.sweep.strategy == "single-head");
  CATCH_CHECK(p.runtime.device == "cpu");
  CATCH_CHECK(p.runtime.dtype == "fp32");
  CATCH_CHECK(p.runtime.attention == "auto");
  CATCH_CHECK(p.runtime.threads == 0);
  CATCH_CHECK(p.runtime.streams == 2);
  CATCH_CHECK(p.runtime.token_budget == 0);  // the device's own
  CATCH_CHECK(p.runtime.seed == 0);
  CATCH_CHECK(p.runtime.progress == "auto");
  CATCH_CHECK(p.output.path == "results/run.h5");
  CATCH_CHECK(p.output.overwrite == false);
  CATCH_CHECK(p.source == "config.yaml");
}

CATCH_TEST_CASE("every option can be set", "[io][plan]") {
  const Plan p = load(
      "# a comment\n"
      "model:\n"
      "  path: \"/models/my model\"\n"
      "  head: similarity\n"
      "  pooling: cls\n"
      "task:\n"
      "  name: stsb\n"
      "  data_dir: '/data/glue'\n"
      "  split: train\n"
      "  max_seq_len: 512\n"
      "  limit: +50\n"
      "sweep: {strategy: layer}\n"
      "runtime:\n"
      "  device: cuda:1\n"
      "  dtype: bf16\n"
      "  attention: kernel\n"
      "  threads: 4\n"
      "  streams: 3\n"
      "  token_budget: 64\n"
      "  seed: -7\n"
      "  progress: lines\n"
      "output:\n"
      "  path: out.h5\n"
      "  overwrite: True\n");
  CATCH_CHECK(p.model.path == "/models/my model");
  CATCH_CHECK(p.model.head == "similarity");
  CATCH_CHECK(p.model.pooling == "cls");
  CATCH_CHECK(p.task.name == "stsb");
  CATCH_CHECK(p.task.split == "train");
  CATCH_CHECK(p.task.max_seq_len == 512);
  CATCH_CHECK(p.task.limit == 50);
  CATCH_CHECK(p.sweep.strategy == "layer");
  CATCH_CHECK(p.runtime.device == "cuda:1");
  CATCH_CHECK(p.runtime.dtype == "bf16");
  CATCH_CHECK(p.runtime.attention == "kernel");
  CATCH_CHECK(p.runtime.threads == 4);
  CATCH_CHECK(p.runtime.streams == 3);
  CATCH_CHECK(p.runtime.token_budget == 64);
  CATCH_CHECK(p.runtime.seed == -7);
  CATCH_CHECK(p.runtime.progress == "lines");
  CATCH_CHECK(p.output.overwrite == true);
}

CATCH_TEST_CASE("string options take plain scalars as text", "[io][plan]") {
  // A split or a path that YAML would read as a number or a boolean is still a string.
  const Plan p = load(kMinimalConfig, {"task.split=2024", "output.path=true"});
  CATCH_CHECK(p.task.split == "2024");
  CATCH_CHECK(p.output.path == "true");
}

CATCH_TEST_CASE("${VAR} is expanded in string values", "[io][plan][env]") {
  ::setenv("HS_TEST_GLUE", "/scratch/glue", 1);
  ::unsetenv("HS_TEST_UNSET");
  const Plan p = load(
      "model:\n  path: ${HS_TEST_UNSET:-/models/default}\n"
      "task:\n  name: sst2\n  data_dir: ${HS_TEST_GLUE}/SST-2\n"
      "output:\n  path: \"$${HS_TEST_GLUE}/literal.h5\"\n");
  CATCH_CHECK(p.model.path == "/models/default");
  CATCH_CHECK(p.task.data_dir == "/scratch/glue/SST-2");
  CATCH_CHECK(p.output.path == "${HS_TEST_GLUE}/literal.h5");
  // Overrides are expanded too (a single-quoted shell argument reaches us unexpanded).
  const Plan q = load(kMinimalConfig, {"output.path=${HS_TEST_GLUE}/out.h5"});
  CATCH_CHECK(q.output.path == "/scratch/glue/out.h5");
  ::unsetenv("HS_TEST_GLUE");
}

CATCH_TEST_CASE("overrides apply after the file and the last one wins", "[io][plan]") {
  const Plan p = load(kMinimalConfig, {"task.limit=50", "runtime.device=cuda", "output.overwrite=true",
                       "task.limit=60", "model.head=regression", "task.split='007'"});
  CATCH_CHECK(p.task.limit == 60);
  CATCH_CHECK(p.runtime.device == "cuda");
  CATCH_CHECK(p.output.overwrite);
  CATCH_CHECK(p.model.head == "regression");
  CATCH_CHECK(p.task.split == "007");
  // A required option may come from --set alone, and an override replaces a broken file value.
  const Plan q = load("model:\n  path: /m\ntask:\n  name: cola\n  data_dir: /d\n  limit: oops\n",
                      {"output.path=o.h5", "task.limit=3"});
  CATCH_CHECK(q.output.path == "o.h5");
  CATCH_CHECK(q.task.limit == 3);
}

CATCH_TEST_CASE("dump_config writes every option and reloads to the same plan", "[io][plan]") {
  ::setenv("HS_TEST_ROOT", "/data", 1);
  const Plan p = load(
      "model:\n  path: \"/models/a \\\"quoted\\\" name\\twith tab\"\n  pooling: mean\n"
      "task:\n  name: mrpc\n  data_dir: ${HS_TEST_ROOT}/glue\n  split: \"123\"\n  limit: 9\n"
      "runtime:\n  seed: 12345678901234\n  device: auto\n"
      "output:\n  path: \"r\u00e9sultats/$${HOME}.h5\"\n");
  ::unsetenv("HS_TEST_ROOT");
  const std::string dump = dump_config(p);
  CATCH_CAPTURE(dump);
  for (const char* key : {"path:", "head: auto", "pooling: mean", "name: mrpc", "data_dir: /data/glue",
                          "split: \"123\"", "max_seq_len: 128", "limit: 9", "strategy: single-head",
                          "device: auto", "threads: 0", "token_budget: 0", "seed: 12345678901234",
                          "progress: auto", "overwrite: false"})
    CATCH_CHECK(dump.find(key) != std::string::npos);
  CATCH_CHECK(dump.find("${HS_TEST_ROOT}") == std::string::npos);
  const Plan again = load(dump);
  CATCH_CHECK(again == p);
  CATCH_CHECK(again.output.path == "r\u00e9sultats/${HOME}.h5");
  CATCH_CHECK(dump_config(again) == dump);
}

CATCH_TEST_CASE("dump_config quotes exactly the strings that need it", "[io][plan]") {
  Plan p = load(kMinimalConfig);
  for (const std::string path :
       {"cpu", "/data/glue", "./rel", "cuda:1", "2024", "1.5", "yes", "Null", "~", " padded ", "a: b",
        "x #y", "-x", "[x]", "e:", "quote\"d", "back\\slash", "new\nline", "${HOME}", "\u00e9t\u00e9"}) {
    CATCH_CAPTURE(path);
    p.output.path = path;
    const std::string dump = dump_config(p);
    CATCH_CHECK(load(dump) == p);
  }
  // "" only where it is allowed (the option's default: "not set").
  p.output.path = "o.h5";
  p.pruning.ablation_from = "";
  CATCH_CHECK(dump_config(p).find("  ablation_from: \"\"\n") != std::string::npos);
  CATCH_CHECK(load(dump_config(p)) == p);
  p.output.path = "/data/glue";
  CATCH_CHECK(dump_config(p).find("  path: /data/glue\n") != std::string::npos);
  p.output.path = "2024";
  CATCH_CHECK(dump_config(p).find("  path: \"2024\"\n") != std::string::npos);
}

CATCH_TEST_CASE("load_plan reads a file and names it in errors", "[io][plan]") {
  TempDir dir;
  const fs::path cfg = dir.file("exp.yaml");
  write_text(cfg, kMinimalConfig);
  const Plan p = load_plan(cfg.string(), {}, hs::io::test::test_context());
  CATCH_CHECK(p.source == cfg.string());
  CATCH_CHECK(p.task.name == "mnli");

  write_text(cfg, std::string(kMinimalConfig) + "  overwrite: maybe\n");
  CATCH_REQUIRE_THROWS_WITH(load_plan(cfg.string(), {}, hs::io::test::test_context()),
                            cfg.string() + ":8:14: output.overwrite: expected true or false, got \"maybe\"");
  CATCH_REQUIRE_THROWS_WITH(load_plan(dir.file("missing.yaml"), {}, hs::io::test::test_context()),
                            dir.file("missing.yaml") +
                                ": cannot read the config: No such file or directory");
}

namespace {

// A config of the three paths check_paths looks at: model.path at 2:9, task.data_dir at 5:13,
// output.path at 7:9.
std::string paths_config(const std::string& model, const std::string& data, const std::string& out) {
  return "model:\n  path: " + model + "\ntask:\n  name: cola\n  data_dir: " + data + "\noutput:\n  path: " + out +
         "\n";
}

}  // namespace

CATCH_TEST_CASE("check_paths checks folders and the output file up front", "[io][plan]") {
  TempDir dir;
  fs::create_directories(dir.file("model"));
  fs::create_directories(dir.file("glue"));
  write_text(dir.file("taken.h5"), "x");
  write_text(dir.file("file"), "x");
  PlanContext ctx = hs::io::test::test_context();
  ctx.check_paths = true;
  const std::string d = dir.path();
  CATCH_CHECK_NOTHROW(load_plan_text(paths_config(d + "/model", d + "/glue", d + "/new/sub/r.h5"), "c.yaml", {}, ctx));
  CATCH_REQUIRE_THROWS_WITH(
      load_plan_text(paths_config(d + "/nomodel", d + "/glue", d + "/r.h5"), "c.yaml", {}, ctx),
      "c.yaml:2:9: model.path: \"" + d + "/nomodel\" does not exist");
  CATCH_REQUIRE_THROWS_WITH(
      load_plan_text(paths_config(d + "/model", d + "/file", d + "/r.h5"), "c.yaml", {}, ctx),
      "c.yaml:5:13: task.data_dir: \"" + d + "/file\" is not a folder");
  // An existing output file is for the run to resume or refuse (it compares the file with the
  // sweep), not an error of the config.
  CATCH_CHECK_NOTHROW(load_plan_text(paths_config(d + "/model", d + "/glue", d + "/taken.h5"), "c.yaml", {}, ctx));
  const hid_t h5 = H5Fcreate(dir.file("results.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  CATCH_REQUIRE(h5 >= 0);
  H5Fclose(h5);
  CATCH_CHECK_NOTHROW(load_plan_text(paths_config(d + "/model", d + "/glue", d + "/results.h5"), "c.yaml",
                                     {"output.overwrite=true"}, ctx));
  // overwrite replaces an HDF5 file only: not the config, a data file or a mask list.
  CATCH_REQUIRE_THROWS_WITH(
      load_plan_text(paths_config(d + "/model", d + "/glue", d + "/taken.h5"), "c.yaml", {"output.overwrite=true"}, ctx),
      "c.yaml:7:9: output.path: \"" + d +
          "/taken.h5\" is not a results file (HDF5), so output.overwrite does not replace it; delete it first if it "
          "should go");
  CATCH_REQUIRE_THROWS_WITH(
      load_plan_text(paths_config(d + "/model", d + "/glue", d + "/new/"), "c.yaml", {}, ctx),
      "c.yaml:7:9: output.path: \"" + d + "/new/\" ends in /: a folder name, not a file name");
  // Nor is the output one of the files the run reads, whatever overwrite says.
  const std::string masks = "\nsweep:\n  strategy: file\n  path: " + d + "/results.h5\n";
  CATCH_REQUIRE_THROWS_WITH(
      load_plan_text(paths_config(d + "/model", d + "/glue", d + "/results.h5") + masks, "c.yaml", {}, ctx),
      "c.yaml:7:9: output.path: \"" + d + "/results.h5\" is the file sweep.path reads; the results must go "
      "elsewhere");
  CATCH_REQUIRE_THROWS_WITH(
      load_plan_text(paths_config(d + "/model", d + "/glue", d + "/./results.h5"), "c.yaml",
                     {"pruning.schedule=percent", "pruning.orders=ablation", "pruning.ablation_from=" + d + "/results.h5"},
                     ctx),
      "c.yaml:7:9: output.path: \"" + d + "/./results.h5\" is the file pruning.ablation_from reads; the results "
      "must go elsewhere");
  // --output (or a shard's file) in place of output.path: the error points at the input's key.
  const Plan p = load_plan_text(paths_config(d + "/model", d + "/glue", d + "/other.h5") + masks, "c.yaml", {}, ctx);
  CATCH_CHECK_NOTHROW(hs::io::check_output_is_not_read(p, d + "/other.h5"));
  CATCH_REQUIRE_THROWS_WITH(hs::io::check_output_is_not_read(p, d + "/results.h5"),
                            "c.yaml:11:9: sweep.path: \"" + d + "/results.h5\" is the file sweep.path reads; the "
                            "results must go elsewhere");
  CATCH_REQUIRE_THROWS_WITH(
      load_plan_text(paths_config(d + "/model", d + "/glue", d + "/model"), "c.yaml", {}, ctx),
      "c.yaml:7:9: output.path: \"" + d + "/model\" is a folder, not a file name");
  CATCH_REQUIRE_THROWS_WITH(
      load_plan_text(paths_config(d + "/model", d + "/glue", d + "/file/r.h5"), "c.yaml", {}, ctx),
      "c.yaml:7:9: output.path: \"" + d + "/file\" is not a folder");
}

CATCH_TEST_CASE("check_paths names a symlink loop as one, not as a missing path", "[io][plan]") {
  TempDir dir;
  fs::create_directories(dir.file("model"));
  fs::create_directories(dir.file("glue"));
  fs::create_symlink(dir.file("loop"), dir.file("loop"));
  PlanContext ctx = hs::io::test::test_context();
  ctx.check_paths = true;
  const std::string d = dir.path();
  const std::string loop = "\"" + d + "/loop\" cannot be accessed (Too many levels of symbolic links)";
  CATCH_REQUIRE_THROWS_WITH(load_plan_text(paths_config(d + "/loop", d + "/glue", d + "/r.h5"), "c.yaml", {}, ctx),
                            "c.yaml:2:9: model.path: " + loop);
  CATCH_REQUIRE_THROWS_WITH(load_plan_text(paths_config(d + "/model", d + "/loop", d + "/r.h5"), "c.yaml", {}, ctx),
                            "c.yaml:5:13: task.data_dir: " + loop);
  // The output itself, and a folder on its way.
  CATCH_REQUIRE_THROWS_WITH(load_plan_text(paths_config(d + "/model", d + "/glue", d + "/loop"), "c.yaml", {}, ctx),
                            "c.yaml:7:9: output.path: " + loop);
  CATCH_REQUIRE_THROWS_WITH(
      load_plan_text(paths_config(d + "/model", d + "/glue", d + "/loop/sub/r.h5"), "c.yaml", {}, ctx),
      "c.yaml:7:9: output.path: \"" + d + "/loop/sub/r.h5\" cannot be accessed (Too many levels of symbolic links)");
}

CATCH_TEST_CASE("is_known_task accepts aliases", "[io][plan]") {
  PlanContext ctx = hs::io::test::test_context();
  ctx.is_known_task = [](const std::string& n) { return n == "STS-B" || n == "stsb"; };
  const Plan p = load_plan_text(
      "model: {path: m}\ntask: {name: STS-B, data_dir: d}\noutput: {path: o.h5}\n", "c.yaml", {}, ctx);
  CATCH_CHECK(p.task.name == "STS-B");
  // No task list and no predicate: any name passes (the caller checks later).
  PlanContext open;
  open.check_paths = false;
  CATCH_CHECK_NOTHROW(load_plan_text("model: {path: m}\ntask: {name: anything, data_dir: d}\noutput: {path: o.h5}\n",
                                     "c.yaml", {}, open));
}

CATCH_TEST_CASE("split names are checked against the task, each at its place", "[io][plan]") {
  PlanContext ctx = hs::io::test::test_context();
  ctx.split_problem = [](const std::string& task, const std::string& split) -> std::string {
    return split == "dev" || split == "train" ? "" : "no split '" + split + "' in " + task;
  };
  const std::string text =
      "model: {path: m}\ntask: {name: mnli, data_dir: d, split: dve}\noutput: {path: o.h5}\n";
  CATCH_CHECK_THROWS_WITH(load_plan_text(text, "c.yaml", {}, ctx), "c.yaml:2:40: task.split: no split 'dve' in mnli");
  CATCH_CHECK_NOTHROW(load_plan_text(text, "c.yaml", {"task.split=train"}, ctx));
  // importance.split: "auto" is the method's choice, and only read when there is a method.
  const std::string imp = "model: {path: m}\ntask: {name: mnli, data_dir: d}\noutput: {path: o.h5}\n"
                          "importance:\n  method: michel\n  split: tset\n";
  CATCH_CHECK_THROWS_WITH(load_plan_text(imp, "c.yaml", {}, ctx), "c.yaml:6:10: importance.split: no split 'tset' in mnli");
  CATCH_CHECK_NOTHROW(load_plan_text(imp, "c.yaml", {"importance.split=auto"}, ctx));
}

CATCH_TEST_CASE("the plan remembers where each option was set, for checks made after loading", "[io][plan]") {
  const Plan p = load_plan_text("model: {path: m}\ntask: {name: mnli, data_dir: d}\noutput: {path: o.h5}\n"
                                "runtime:\n  dtype: bf16\n",
                                "c.yaml", {"task.limit=5"}, hs::io::test::test_context());
  CATCH_CHECK_THROWS_WITH(p.where.fail("runtime.dtype", "{} is not {}", "bf16", "fp32"),
                          "c.yaml:5:10: runtime.dtype: bf16 is not fp32");
  CATCH_CHECK_THROWS_AS(p.where.fail("runtime.dtype", "x"), hs::InputError);
  CATCH_CHECK(p.where("task.limit") == "--set task.limit=5: task.limit");
  CATCH_CHECK(p.where("runtime.threads") == "c.yaml:4:1: runtime.threads");  // a default: its section's line
  CATCH_CHECK(p.where("stats.bootstrap") == "c.yaml:1:1: stats.bootstrap");  // no section: the file's start
  // A plan made in code knows no places; the key alone is named.
  CATCH_CHECK(Plan{}.where("runtime.dtype") == "runtime.dtype");
  // Where is derived from the text: a reloaded dump is the same plan.
  CATCH_CHECK(load_plan_text(dump_config(p), p.source, {}, hs::io::test::test_context()) == p);
}
