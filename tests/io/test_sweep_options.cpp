// The sweep section: sweep.strategy as one name or a list (OptionType::StringList), each strategy's
// parameters with their defaults, used_when on a list, every error with its position, --set, and
// the --dump-config round trip.
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "io/option_resolver.h"
#include "io/options.h"
#include "io/plan.h"
#include "plan_fixtures.h"
#include "util/error.h"

using namespace hs::io;
using hs::io::test::kMinimalConfig;
using hs::io::test::load;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// The minimal config (7 lines) followed by `sweep`, which starts at line 8.
std::string with(const std::string& sweep) { return std::string(kMinimalConfig) + sweep; }

}  // namespace

CATCH_TEST_CASE("sweep defaults: single-head, no strategy parameters", "[io][plan][sweep]") {
  const Plan p = load(kMinimalConfig);
  CATCH_CHECK(p.sweep.strategies == std::vector<std::string>{"single-head"});
  CATCH_CHECK(p.sweep.strategy == "single-head");
  const std::string dump = dump_config(p);
  CATCH_CHECK(dump.find("sweep:\n  strategy: single-head\n\n") != std::string::npos);
  const size_t at = dump.find("sweep:\n");
  const std::string sweep = dump.substr(at, dump.find("\n\n", at) - at);
  for (const char* key : {"sparsities", "samples", "min_heads_per_layer", "layer:", "dataset"})
    CATCH_CHECK(sweep.find(key) == std::string::npos);
}

CATCH_TEST_CASE("random: the users' example and the defaults", "[io][plan][sweep]") {
  const Plan p = load(with("sweep: { strategy: random, sparsities: [0.2, 0.5, 0.8], samples: 100, seed: 7 }\n"));
  CATCH_CHECK(p.sweep.strategies == std::vector<std::string>{"random"});
  CATCH_CHECK(p.sweep.sparsities == std::vector<double>{0.2, 0.5, 0.8});
  CATCH_CHECK(p.sweep.samples == 100);
  CATCH_CHECK(p.sweep.seed == 7);
  CATCH_CHECK(p.sweep.min_heads_per_layer == 0);

  const Plan d = load(with("sweep:\n  strategy: random\n"));
  CATCH_CHECK(d.sweep.sparsities == std::vector<double>{0.25, 0.5, 0.75});
  CATCH_CHECK(d.sweep.samples == 10);
  CATCH_CHECK(d.sweep.seed == 0);
  CATCH_CHECK(d.sweep.min_heads_per_layer == 0);

  const Plan m = load(with("sweep:\n  strategy: random\n  min_heads_per_layer: 1\n  seed: -3\n  sparsities:\n    - 0.1\n    - 0.9\n"));
  CATCH_CHECK(m.sweep.min_heads_per_layer == 1);
  CATCH_CHECK(m.sweep.seed == -3);
  CATCH_CHECK(m.sweep.sparsities == std::vector<double>{0.1, 0.9});
}

CATCH_TEST_CASE("exhaustive-layer and file options", "[io][plan][sweep]") {
  const Plan e = load(with("sweep:\n  strategy: exhaustive-layer\n  layer: 5\n"));
  CATCH_CHECK(e.sweep.strategies == std::vector<std::string>{"exhaustive-layer"});
  CATCH_CHECK(e.sweep.layer == 5);

  const Plan f = load(with("sweep:\n  strategy: file\n  path: masks.txt\n"));
  CATCH_CHECK(f.sweep.path == "masks.txt");
  CATCH_CHECK(f.sweep.dataset == "/masks");
  ::setenv("HS_TEST_RUNS", "/runs", 1);
  const Plan g = load(with("sweep:\n  strategy: file\n  path: ${HS_TEST_RUNS}/r.h5\n  dataset: pruning/masks\n"));
  ::unsetenv("HS_TEST_RUNS");
  CATCH_CHECK(g.sweep.path == "/runs/r.h5");
  CATCH_CHECK(g.sweep.dataset == "pruning/masks");
}

CATCH_TEST_CASE("sweep.strategy takes a list: the union", "[io][plan][sweep]") {
  const Plan flow = load(with("sweep:\n  strategy: [single-head, layer]\n"));
  CATCH_CHECK(flow.sweep.strategies == std::vector<std::string>{"single-head", "layer"});
  CATCH_CHECK(flow.sweep.strategy == "single-head+layer");
  const Plan block = load(with("sweep:\n  strategy:\n    - layer\n    - random\n  samples: 3\n"));
  CATCH_CHECK(block.sweep.strategies == std::vector<std::string>{"layer", "random"});
  CATCH_CHECK(block.sweep.samples == 3);
  CATCH_CHECK(load(with("sweep:\n  strategy: [layer]\n")) == load(with("sweep:\n  strategy: layer\n")));

  // Every listed strategy's parameters apply.
  const Plan all = load(with("sweep:\n  strategy: [random, exhaustive-layer, file]\n  layer: 2\n"
                             "  path: m.npy\n  samples: 4\n"));
  CATCH_CHECK(all.sweep.layer == 2);
  CATCH_CHECK(all.sweep.path == "m.npy");
  CATCH_CHECK(all.sweep.samples == 4);

  // --set takes a list or a scalar.
  const Plan set = load(kMinimalConfig, {"sweep.strategy=[single-head, leave-one-in]"});
  CATCH_CHECK(set.sweep.strategies == std::vector<std::string>{"single-head", "leave-one-in"});
  const Plan set2 = load(with("sweep:\n  strategy: [single-head, layer]\n"), {"sweep.strategy=baseline"});
  CATCH_CHECK(set2.sweep.strategies == std::vector<std::string>{"baseline"});
  const Plan set3 = load(kMinimalConfig, {"sweep.strategy=random", "sweep.sparsities=[0.3]", "sweep.seed=9"});
  CATCH_CHECK(set3.sweep.sparsities == std::vector<double>{0.3});
  CATCH_CHECK(set3.sweep.seed == 9);
}

CATCH_TEST_CASE("sweep.strategy errors", "[io][plan][sweep][errors]") {
  CATCH_REQUIRE_THROWS_WITH(load(with("sweep:\n  strategy: [single-head, layers]\n")),
                            "config.yaml:9:13: sweep.strategy: item 2: expected one of baseline, "
                            "single-head, layer, leave-one-in, random, exhaustive-layer, file; got "
                            "\"layers\" (did you mean layer?)");
  CATCH_REQUIRE_THROWS_WITH(load(with("sweep:\n  strategy: [layer, single-head, layer]\n")),
                            "config.yaml:9:13: sweep.strategy: item 3: \"layer\" repeats item 1");
  CATCH_REQUIRE_THROWS_WITH(load(with("sweep:\n  strategy: []\n")),
                            "config.yaml:9:13: sweep.strategy: expected at least one value, got an empty list");
  CATCH_REQUIRE_THROWS_WITH(load(with("sweep:\n  strategy: [layer, {a: 1}]\n")),
                            "config.yaml:9:13: sweep.strategy: item 2: expected a string, got a map");
  CATCH_REQUIRE_THROWS_WITH(load(with("sweep:\n  strategy: [layer, [random]]\n")),
                            "config.yaml:9:13: sweep.strategy: item 2: expected a string, got a list");
  CATCH_REQUIRE_THROWS_WITH(load(with("sweep:\n  strategy: {random: 1}\n")),
                            "config.yaml:9:13: sweep.strategy: expected a string or a list of strings, got a map");
  CATCH_REQUIRE_THROWS_WITH(load(with("sweep:\n  strategy:\n")),
                            "config.yaml:9:3: sweep.strategy: expected a string or a list of strings, got "
                            "an empty value");
  CATCH_REQUIRE_THROWS_WITH(load(with("sweep:\n  strategy: randon\n")),
                            "config.yaml:9:13: sweep.strategy: expected one of baseline, single-head, layer, "
                            "leave-one-in, random, exhaustive-layer, file; got \"randon\" (did you mean random?)");
  CATCH_REQUIRE_THROWS_WITH(load(kMinimalConfig, {"sweep.strategy=[single-head,"}),
                            Contains("--set sweep.strategy=[single-head,: sweep.strategy: invalid YAML value"));
}

CATCH_TEST_CASE("strategy parameters: ranges and required options", "[io][plan][sweep][errors]") {
  const std::string random = "sweep:\n  strategy: random\n";  // parameters start at line 10
  CATCH_REQUIRE_THROWS_WITH(load(with(random + "  sparsities: [0.2, 1]\n")),
                            "config.yaml:10:15: sweep.sparsities: item 2: expected a number above 0 and "
                            "below 1, got 1");
  CATCH_REQUIRE_THROWS_WITH(load(with(random + "  sparsities: [0, 0.5]\n")),
                            "config.yaml:10:15: sweep.sparsities: item 1: expected a number above 0 and "
                            "below 1, got 0");
  CATCH_REQUIRE_THROWS_WITH(load(with(random + "  sparsities: [-0.5]\n")),
                            "config.yaml:10:15: sweep.sparsities: item 1: expected a number above 0 and "
                            "below 1, got -0.5");
  CATCH_REQUIRE_THROWS_WITH(load(with(random + "  sparsities: [0.5, 0.2, 0.5]\n")),
                            "config.yaml:10:15: sweep.sparsities: item 3: 0.5 repeats item 1");
  CATCH_REQUIRE_THROWS_WITH(load(with(random + "  sparsities: []\n")),
                            "config.yaml:10:15: sweep.sparsities: expected at least one sparsity, got an "
                            "empty list");
  CATCH_REQUIRE_THROWS_WITH(load(with(random + "  sparsities: 0.5\n")),
                            "config.yaml:10:15: sweep.sparsities: expected a list of numbers, got \"0.5\"");
  CATCH_REQUIRE_THROWS_WITH(load(with(random + "  samples: 0\n")),
                            "config.yaml:10:12: sweep.samples: expected an integer from 1 to 1000000, got 0");
  CATCH_REQUIRE_THROWS_WITH(load(with(random + "  samples: 1.5\n")),
                            "config.yaml:10:12: sweep.samples: expected an integer, got \"1.5\"");
  CATCH_REQUIRE_THROWS_WITH(load(with(random + "  seed: abc\n")),
                            "config.yaml:10:9: sweep.seed: expected an integer, got \"abc\"");
  CATCH_REQUIRE_THROWS_WITH(load(with(random + "  min_heads_per_layer: -1\n")),
                            "config.yaml:10:24: sweep.min_heads_per_layer: expected an integer from 0 to "
                            "2147483647, got -1");
  CATCH_REQUIRE_THROWS_WITH(load(with("sweep:\n  strategy: exhaustive-layer\n  layer: -1\n")),
                            "config.yaml:10:10: sweep.layer: expected an integer from 0 to 2147483647, got -1");
  CATCH_REQUIRE_THROWS_WITH(load(with("sweep:\n  strategy: exhaustive-layer\n")),
                            "config.yaml:8:1: sweep.layer: required option is missing");
  CATCH_REQUIRE_THROWS_WITH(load(with("sweep:\n  strategy: [single-head, file]\n")),
                            "config.yaml:8:1: sweep.path: required option is missing");
  CATCH_REQUIRE_THROWS_WITH(load(with("sweep:\n  strategy: file\n  path: m.h5\n  dataset: [a]\n")),
                            "config.yaml:11:12: sweep.dataset: expected a string, got a list");
}

CATCH_TEST_CASE("strategy parameters belong to their strategy", "[io][plan][sweep][errors]") {
  CATCH_REQUIRE_THROWS_WITH(load(with("sweep:\n  samples: 5\n")),
                            "config.yaml:9:12: sweep.samples: only used when sweep.strategy is random (it "
                            "is single-head)");
  CATCH_REQUIRE_THROWS_WITH(load(with("sweep:\n  strategy: [single-head, layer]\n  layer: 3\n")),
                            "config.yaml:10:10: sweep.layer: only used when sweep.strategy is "
                            "exhaustive-layer (it is [single-head, layer])");
  CATCH_REQUIRE_THROWS_WITH(load(with("sweep:\n  strategy: random\n  path: m.txt\n")),
                            "config.yaml:10:9: sweep.path: only used when sweep.strategy is file (it is random)");
  CATCH_REQUIRE_THROWS_WITH(load(kMinimalConfig, {"sweep.dataset=/m"}),
                            "--set sweep.dataset=/m: sweep.dataset: only used when sweep.strategy is file "
                            "(it is single-head)");
  // The strategy may come from --set, which makes the file's parameters valid.
  CATCH_CHECK(load(with("sweep:\n  layer: 3\n"), {"sweep.strategy=exhaustive-layer"}).sweep.layer == 3);
}

CATCH_TEST_CASE("sweep.path must exist when paths are checked", "[io][plan][sweep]") {
  const fs::path dir = fs::temp_directory_path() / ("hs_io_sweep_" + std::to_string(::getpid()));
  fs::create_directories(dir / "model");
  fs::create_directories(dir / "glue");
  std::ofstream(dir / "masks.txt") << "L0.H1\n";
  PlanContext ctx = hs::io::test::test_context();
  ctx.check_paths = true;
  const std::string d = dir.string();
  auto config = [&](const std::string& masks) {
    return "model:\n  path: " + d + "/model\ntask:\n  name: cola\n  data_dir: " + d + "/glue\noutput:\n  path: " +
           d + "/r.h5\nsweep:\n  strategy: file\n  path: " + masks + "\n";
  };
  CATCH_CHECK(load_plan_text(config(d + "/masks.txt"), "c.yaml", {}, ctx).sweep.path == d + "/masks.txt");
  CATCH_REQUIRE_THROWS_WITH(load_plan_text(config(d + "/nope.txt"), "c.yaml", {}, ctx),
                            "c.yaml:10:9: sweep.path: \"" + d + "/nope.txt\" does not exist");
  CATCH_REQUIRE_THROWS_WITH(load_plan_text(config(d + "/glue"), "c.yaml", {}, ctx),
                            "c.yaml:10:9: sweep.path: \"" + d + "/glue\" is a folder, not a file");
  fs::remove_all(dir);
}

CATCH_TEST_CASE("dump_config writes each strategy's options and reloads to the same plan", "[io][plan][sweep]") {
  for (const std::string sweep :
       {"sweep:\n  strategy: baseline\n", "sweep:\n  strategy: [single-head, layer, leave-one-in]\n",
        "sweep: { strategy: random, sparsities: [0.2, 0.5, 0.8], samples: 100, seed: 7 }\n",
        "sweep:\n  strategy: random\n  sparsities: [0.125, 0.333333]\n  min_heads_per_layer: 1\n  seed: -9\n",
        "sweep:\n  strategy: exhaustive-layer\n  layer: 11\n",
        "sweep:\n  strategy: file\n  path: \"runs/r 1.h5\"\n  dataset: /pruning/masks\n",
        "sweep:\n  strategy: [file, random, exhaustive-layer]\n  path: m.npy\n  layer: 0\n"}) {
    CATCH_CAPTURE(sweep);
    const Plan p = load(with(sweep));
    const std::string dump = dump_config(p);
    CATCH_CAPTURE(dump);
    const Plan again = load(dump);
    CATCH_CHECK(again == p);
    CATCH_CHECK(again.sweep.strategy == p.sweep.strategy);
    CATCH_CHECK(dump_config(again) == dump);
  }
  const std::string u = dump_config(load(with("sweep:\n  strategy: [single-head, layer]\n")));
  CATCH_CHECK(u.find("  strategy: [single-head, layer]\n") != std::string::npos);
  const std::string r = dump_config(load(with("sweep: { strategy: random, sparsities: [0.2, 0.5, 0.8], samples: 100, seed: 7 }\n")));
  CATCH_CHECK(r.find("sweep:\n  strategy: random\n  sparsities: [0.2, 0.5, 0.8]\n  samples: 100\n  seed: 7\n"
                     "  min_heads_per_layer: 0\n\n") != std::string::npos);
  const std::string f = dump_config(load(with("sweep:\n  strategy: file\n  path: m.txt\n")));
  CATCH_CHECK(f.find("sweep:\n  strategy: file\n  path: m.txt\n  dataset: /masks\n\n") != std::string::npos);
}

CATCH_TEST_CASE("string lists in a table of their own", "[io][options]") {
  OptionSpec s;
  s.section = "x";
  s.name = "names";
  s.type = OptionType::StringList;
  s.help = "test option";
  s.default_value = Value(std::vector<std::string>{"a"});
  OptionSpec t;
  t.section = "x";
  t.name = "extra";
  t.type = OptionType::Int;
  t.help = "test option";
  t.default_value = Value(int64_t{1});
  t.used_when = OptionCondition{"x.names", {"b"}};
  const std::vector<OptionSpec> table = {s, t};
  // Without choices any strings go, and ${VAR} expands in each (quoted: { and } are flow syntax).
  ::setenv("HS_TEST_ITEM", "from-env", 1);
  const auto r = resolve_options(table, "x:\n  names: [\"two words\", \"${HS_TEST_ITEM}\", b]\n  extra: 3\n",
                                 "c.yaml", {});
  ::unsetenv("HS_TEST_ITEM");
  const auto& names = std::get<std::vector<std::string>>(find_resolved(r, "x.names").value);
  CATCH_CHECK(names == std::vector<std::string>{"two words", "from-env", "b"});
  CATCH_CHECK(find_resolved(r, "x.extra").used);
  // Written back as YAML: items quoted when they need it, a list of one as a scalar.
  CATCH_CHECK(value_yaml(s, Value(names)) == "[\"two words\", from-env, b]");
  CATCH_CHECK(value_yaml(s, Value(std::vector<std::string>{"cuda:1", "yes", "${X}"})) ==
              "[\"cuda:1\", \"yes\", \"$${X}\"]");
  CATCH_CHECK(value_yaml(s, Value(std::vector<std::string>{"a"})) == "a");
  CATCH_CHECK(value_yaml(s, Value(std::vector<std::string>{"2024"})) == "\"2024\"");
  CATCH_CHECK(type_name(OptionType::StringList) == "string or list of strings");
  const std::string md = options_markdown({{"x", "Test."}}, table);
  CATCH_CHECK(md.find("| `x.names` | string or list of strings | `a` |  | test option |") != std::string::npos);
  CATCH_CHECK(md.find("Only with `x.names` `b`.") != std::string::npos);
}
