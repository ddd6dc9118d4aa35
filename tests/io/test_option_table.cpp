// The option machinery on its own, with a table of future strategy parameters (a list of floats,
// options that only some strategies read), and the invariants of the real table.
#include <set>

#include <catch2/catch.hpp>

#include "io/option_resolver.h"
#include "io/options.h"
#include "util/error.h"

using namespace hs::io;

namespace {

OptionSpec spec(const char* section, const char* name, OptionType type) {
  OptionSpec s;
  s.section = section;
  s.name = name;
  s.type = type;
  s.help = "test option";
  return s;
}

std::vector<OptionSpec> sweep_table() {
  OptionSpec strategy = spec("sweep", "strategy", OptionType::String);
  strategy.choices = {"single-head", "random", "from-file"};
  strategy.default_value = Value(std::string("single-head"));
  OptionSpec sparsities = spec("sweep", "sparsities", OptionType::FloatList);
  sparsities.min = 0;
  sparsities.max = 1;
  sparsities.default_value = Value(std::vector<double>{0.1, 0.5});
  sparsities.used_when = OptionCondition{"sweep.strategy", {"random"}};
  OptionSpec samples = spec("sweep", "samples", OptionType::Int);
  samples.min = 1;
  samples.default_value = Value(int64_t{10});
  samples.used_when = OptionCondition{"sweep.strategy", {"random"}};
  OptionSpec path = spec("sweep", "path", OptionType::String);
  path.required = true;
  path.used_when = OptionCondition{"sweep.strategy", {"from-file"}};
  return {strategy, sparsities, samples, path};
}

std::vector<ResolvedOption> resolve(const std::string& text, const std::vector<std::string>& sets = {}) {
  static const std::vector<OptionSpec> table = sweep_table();
  return resolve_options(table, text, "config.yaml", sets);
}

}  // namespace

CATCH_TEST_CASE("strategy parameters: lists of numbers and used_when", "[io][options]") {
  const auto defaults = resolve("");
  CATCH_CHECK(std::get<std::string>(find_resolved(defaults, "sweep.strategy").value) == "single-head");
  CATCH_CHECK_FALSE(find_resolved(defaults, "sweep.sparsities").used);
  CATCH_CHECK_FALSE(find_resolved(defaults, "sweep.path").used);

  const auto random = resolve("sweep:\n  strategy: random\n  sparsities: [0.1, 0.25, 1]\n");
  CATCH_CHECK(std::get<std::vector<double>>(find_resolved(random, "sweep.sparsities").value) ==
              std::vector<double>{0.1, 0.25, 1.0});
  CATCH_CHECK(std::get<int64_t>(find_resolved(random, "sweep.samples").value) == 10);
  CATCH_CHECK(find_resolved(random, "sweep.samples").origin == OptionOrigin::Default);

  const auto set = resolve("sweep:\n  strategy: random\n", {"sweep.sparsities=[0.2, 0.3]"});
  CATCH_CHECK(std::get<std::vector<double>>(find_resolved(set, "sweep.sparsities").value) ==
              std::vector<double>{0.2, 0.3});
  CATCH_CHECK(find_resolved(set, "sweep.sparsities").origin == OptionOrigin::Override);
  CATCH_CHECK(find_resolved(set, "sweep.sparsities").where == "--set sweep.sparsities=[0.2, 0.3]");
}

CATCH_TEST_CASE("strategy parameters: errors", "[io][options]") {
  CATCH_REQUIRE_THROWS_WITH(
      resolve("sweep:\n  sparsities: [0.1]\n"),
      "config.yaml:2:15: sweep.sparsities: only used when sweep.strategy is random (it is single-head)");
  CATCH_REQUIRE_THROWS_WITH(resolve("sweep:\n  strategy: random\n  sparsities: [0.1, 1.5]\n"),
                            "config.yaml:3:15: sweep.sparsities: item 2: expected a number from 0 to "
                            "1, got 1.5");
  CATCH_REQUIRE_THROWS_WITH(resolve("sweep:\n  strategy: random\n  sparsities: [0.1, abc]\n"),
                            "config.yaml:3:15: sweep.sparsities: item 2: expected a number, got "
                            "\"abc\"");
  CATCH_REQUIRE_THROWS_WITH(resolve("sweep:\n  strategy: random\n  sparsities: 0.1\n"),
                            "config.yaml:3:15: sweep.sparsities: expected a list of numbers, got "
                            "\"0.1\"");
  CATCH_REQUIRE_THROWS_WITH(resolve("sweep:\n  strategy: from-file\n"),
                            "config.yaml:1:1: sweep.path: required option is missing");
  CATCH_REQUIRE_THROWS_WITH(resolve("sweep:\n  strategy: random\n  samples: 0\n"),
                            "config.yaml:3:12: sweep.samples: expected an integer of at least 1, got 0");
}

CATCH_TEST_CASE("the docs tables show lists, ranges and used_when", "[io][options]") {
  const std::string md = options_markdown({{"sweep", "Masks."}}, sweep_table());
  CATCH_CAPTURE(md);
  CATCH_CHECK(md.find("### `sweep`\n\nMasks.\n") != std::string::npos);
  CATCH_CHECK(md.find("| `sweep.sparsities` | list of numbers | `[0.1, 0.5]` | each 0 to 1 | test option "
                      "Only with `sweep.strategy` `random`. |") != std::string::npos);
  CATCH_CHECK(md.find("| `sweep.path` | string | *required* |  | test option Only with `sweep.strategy` "
                      "`from-file`. |") != std::string::npos);
}

CATCH_TEST_CASE("the plan option table is complete and consistent", "[io][options]") {
  const auto& sections = plan_sections();
  std::set<std::string> section_names;
  for (const auto& s : sections) {
    CATCH_CHECK_FALSE(s.help.empty());
    section_names.insert(s.name);
  }
  std::set<std::string> keys;
  for (const auto& o : plan_options()) {
    CATCH_CAPTURE(o.key());
    CATCH_CHECK(section_names.count(o.section) == 1);
    CATCH_CHECK(keys.insert(o.key()).second);
    CATCH_CHECK_FALSE(o.help.empty());
    CATCH_CHECK(o.required != o.default_value.has_value());
    CATCH_CHECK(o.store);
    CATCH_CHECK(o.load);
  }
  // Each section declares at least one option.
  std::set<std::string> used;
  for (const auto& o : plan_options()) used.insert(o.section);
  CATCH_CHECK(used == section_names);
}
