// docs/config.md cannot drift from the option table: its tables must be exactly what
// options_markdown() generates, and its full example must load and set every option.
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "io/option_resolver.h"
#include "io/options.h"
#include "io/plan.h"
#include "plan_fixtures.h"
#include "test_env.h"

namespace {

const std::string kBegin =
    "<!-- BEGIN options: generated from src/io/options.cpp by options_markdown(); do not edit -->\n";
const std::string kEnd = "<!-- END options -->\n";

std::string docs_path() { return hs::test::source_dir() + "/docs/config.md"; }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The first ```yaml block.
std::string example_yaml(const std::string& doc) {
  const std::string open = "```yaml\n";
  const size_t a = doc.find(open);
  if (a == std::string::npos) return "";
  const size_t b = doc.find("```", a + open.size());
  return doc.substr(a + open.size(), b - a - open.size());
}

}  // namespace

CATCH_TEST_CASE("docs/config.md holds exactly the generated option tables", "[io][docs]") {
  const std::string doc = read_text(docs_path());
  CATCH_REQUIRE_FALSE(doc.empty());
  const size_t a = doc.find(kBegin);
  const size_t b = doc.find(kEnd);
  CATCH_REQUIRE(a != std::string::npos);
  CATCH_REQUIRE(b != std::string::npos);
  const size_t start = a + kBegin.size();
  const std::string current = doc.substr(start, b - start);
  const std::string expected = "\n" + hs::io::options_markdown();
  if (current == expected) return;
  if (std::getenv("HEADSWEEP_UPDATE_DOCS") != nullptr) {
    std::ofstream(docs_path(), std::ios::binary) << doc.substr(0, start) + expected + doc.substr(b);
    CATCH_WARN("rewrote the option tables in " + docs_path());
    return;
  }
  CATCH_CAPTURE(expected);
  CATCH_FAIL("docs/config.md differs from the option table; regenerate it with "
             "HEADSWEEP_UPDATE_DOCS=1 test_io '[docs]'");
}

CATCH_TEST_CASE("the full example in docs/config.md loads and sets every option", "[io][docs]") {
  const std::string yaml = example_yaml(read_text(docs_path()));
  CATCH_REQUIRE_FALSE(yaml.empty());
  ::setenv("GLUE_DIR", "/data/glue", 0);
  const auto resolved = hs::io::resolve_options(hs::io::plan_options(), yaml, "docs/config.md", {});
  for (const auto& r : resolved) {
    CATCH_CAPTURE(r.spec->key());
    // Parameters of other strategies cannot be set (that is an error); the strategy examples show them.
    CATCH_CHECK((r.origin == hs::io::OptionOrigin::File || !r.used));
  }
  CATCH_CHECK_NOTHROW(hs::io::load_plan_text(yaml, "docs/config.md", {}, hs::io::test::test_context()));
}

CATCH_TEST_CASE("every strategy example in docs/config.md loads", "[io][docs]") {
  // The ```yaml blocks of the Strategies section hold a sweep section each; with the required
  // options added they must be valid configs, and together they set every sweep option.
  const std::string doc = read_text(docs_path());
  const size_t start = doc.find("\n## Strategies\n");
  CATCH_REQUIRE(start != std::string::npos);
  const size_t end = doc.find("\n## ", start + 1);
  std::string section = doc.substr(start, end - start);
  std::set<std::string> strategies, set_options;
  int examples = 0;
  for (std::string yaml = example_yaml(section); !yaml.empty(); yaml = example_yaml(section)) {
    section = section.substr(section.find("```yaml\n") + 8);
    section = section.substr(section.find("```") + 3);
    CATCH_CAPTURE(yaml);
    ++examples;
    const std::string config = std::string(hs::io::test::kMinimalConfig) + yaml;
    const auto resolved = hs::io::resolve_options(hs::io::plan_options(), config, "docs/config.md", {});
    for (const auto& r : resolved)
      if (r.spec->section == "sweep" && r.origin == hs::io::OptionOrigin::File) set_options.insert(r.spec->key());
    const hs::io::Plan p = hs::io::test::load(config);
    strategies.insert(p.sweep.strategies.begin(), p.sweep.strategies.end());
  }
  CATCH_CHECK(examples >= 7);
  for (const auto& o : hs::io::plan_options()) {
    if (o.section != "sweep") continue;
    CATCH_CAPTURE(o.key());
    CATCH_CHECK(set_options.count(o.key()) == 1);
    if (o.key() == "sweep.strategy") CATCH_CHECK(std::set<std::string>(o.choices.begin(), o.choices.end()) == strategies);
  }
}
