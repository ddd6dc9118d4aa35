// Every kind of config mistake, with the exact one-line message and 1-based FILE:LINE:COL.
#include <map>

#include <catch2/catch.hpp>

#include "io/plan.h"
#include "plan_fixtures.h"
#include "temp_dir.h"
#include "util/error.h"

using hs::io::test::kMinimalConfig;
using hs::io::test::load;

namespace {

// The minimal config (7 lines) followed by `extra`, which starts at line 8.
std::string with(const std::string& extra) { return std::string(kMinimalConfig) + extra; }

// The minimal config reordered so that `section` comes last, with `lines` added to it from line 8.
std::string last(const std::string& section, const std::string& lines) {
  const std::map<std::string, std::string> parts = {
      {"model", "model:\n  path: /models/bert\n"},
      {"task", "task:\n  name: mnli\n  data_dir: /data/glue\n"},
      {"output", "output:\n  path: results/run.h5\n"}};
  std::string out;
  for (const auto& [name, text] : parts)
    if (name != section) out += text;
  return out + parts.at(section) + lines;
}

}  // namespace

CATCH_TEST_CASE("config errors are InputErrors", "[io][plan][errors]") {
  CATCH_REQUIRE_THROWS_AS(load("model: [\n"), hs::InputError);
  CATCH_REQUIRE_THROWS_AS(load(with("  overwrite: 3\n")), hs::InputError);
}

CATCH_TEST_CASE("YAML syntax errors use the parser's position", "[io][plan][errors]") {
  CATCH_REQUIRE_THROWS_WITH(load("model:\n  path: [a, b\ntask: x\n"),
                            "config.yaml:3:5: invalid YAML: end of sequence flow not found");
  CATCH_REQUIRE_THROWS_WITH(load("model:\n  path: a: b\n"),
                            "config.yaml:2:10: invalid YAML: illegal map value");
  CATCH_REQUIRE_THROWS_WITH(load(with("---\nmodel: {}\n")),
                            "config.yaml:9:1: expected one YAML document, found 2");
}

CATCH_TEST_CASE("control characters are named where they are, as bytes", "[io][plan][errors]") {
  std::string text = kMinimalConfig;
  text.insert(text.find("task:") + 5, std::string(1, '\0'));
  CATCH_REQUIRE_THROWS_WITH(load(text), "config.yaml:3:6: byte 0x00, a control character: a config is YAML text");
  CATCH_REQUIRE_THROWS_WITH(load(with("  path\x1b: x\n")),
                            "config.yaml:8:7: byte 0x1b, a control character: a config is YAML text");
  // Tabs and CRLF line ends are YAML's own.
  std::string crlf;
  for (char c : std::string(kMinimalConfig)) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  CATCH_CHECK(load(crlf).task.name == load(kMinimalConfig).task.name);
}

CATCH_TEST_CASE("a config file too large to be one is refused before it is read whole", "[io][plan][errors]") {
  const hs::test::TempDir dir;
  const std::string path = dir.write("big.yaml", std::string(kMinimalConfig) + "#" + std::string(1 << 20, 'x') + "\n");
  CATCH_REQUIRE_THROWS_WITH(hs::io::load_plan(path, {}, hs::io::test::test_context()),
                            path + ": more than 1 MiB; not a headsweep config");
  // A device with no end, as a mistyped path might name, stops at the cap too.
  CATCH_REQUIRE_THROWS_WITH(hs::io::load_plan("/dev/zero", {}, hs::io::test::test_context()),
                            "/dev/zero: more than 1 MiB; not a headsweep config");
}

CATCH_TEST_CASE("a quote left open is named where it opens", "[io][plan][errors]") {
  // yaml-cpp takes it as a string running to the end of the file: task.name would seem missing.
  CATCH_CHECK_THROWS_WITH(load("model:\n  path: \"/models/bert\ntask:\n  name: mnli\n  data_dir: d\noutput:\n  path: o\n"),
                          "config.yaml:2:9: model.path: the double quote opened here is not closed on this line");
  CATCH_CHECK_THROWS_WITH(load(with("sweep:\n  strategy: [layer, 'single-head,\n    baseline']\n")),
                          "config.yaml:9:21: sweep.strategy: the single quote opened here is not closed on this line");
  // Block scalars span lines: | would end the path with a line break, > joins its lines with spaces.
  CATCH_CHECK_THROWS_WITH(load(with("sweep:\n  path: |\n    masks.txt\n")),
                          "config.yaml:9:9: sweep.path: a block scalar (|) spans lines; write the value on this line");
  CATCH_CHECK_THROWS_WITH(load(with("sweep:\n  path: >-\n    masks\n    .txt\n")),
                          "config.yaml:9:9: sweep.path: a block scalar (>) spans lines; write the value on this line");
  // Escaped quotes inside, and quotes that close, are fine.
  std::string text = kMinimalConfig;
  text.replace(text.find("results/run.h5"), 14, "\"a \\\" b\"");
  text.replace(text.find("/models/bert"), 12, "'it''s'");
  const hs::io::Plan p = load(text);
  CATCH_CHECK(p.output.path == "a \" b");
  CATCH_CHECK(p.model.path == "it's");
}

CATCH_TEST_CASE("unknown sections and options, at any level", "[io][plan][errors]") {
  CATCH_REQUIRE_THROWS_WITH(load(with("taks:\n  limit: 3\n")),
                            "config.yaml:8:1: taks: unknown section (did you mean task?)");
  CATCH_REQUIRE_THROWS_WITH(
      load(with("logging: {}\n")),
      "config.yaml:8:1: logging: unknown section (known sections: model, task, sweep, runtime, importance, attention, "
                            "pruning, stats, output)");
  CATCH_REQUIRE_THROWS_WITH(load("task:\n  name: mnli\n  limitt: 50\n"),
                            "config.yaml:3:3: task.limitt: unknown option (did you mean limit?)");
  CATCH_REQUIRE_THROWS_WITH(load("output:\n  format: csv\n"),
                            "config.yaml:2:3: output.format: unknown option (output options: path, "
                            "overwrite)");
  CATCH_REQUIRE_THROWS_WITH(load("model:\n  [a]: 1\n"),
                            "config.yaml:2:3: model: expected an option name, got a list");
}

CATCH_TEST_CASE("wrong node kinds", "[io][plan][errors]") {
  CATCH_REQUIRE_THROWS_WITH(load("- model\n- task\n"),
                            "config.yaml:1:1: expected a map of sections (model, task, sweep, "
                            "runtime, importance, attention, pruning, stats, output), got a list");
  CATCH_REQUIRE_THROWS_WITH(load("just text\n"),
                            "config.yaml:1:1: expected a map of sections (model, task, sweep, "
                            "runtime, importance, attention, pruning, stats, output), got \"just text\"");
  CATCH_REQUIRE_THROWS_WITH(load("model: [a, b]\n"),
                            "config.yaml:1:8: model: expected a map of options, got a list");
  CATCH_REQUIRE_THROWS_WITH(load("model: /models/bert\n"),
                            "config.yaml:1:8: model: expected a map of options, got \"/models/bert\"");
  CATCH_REQUIRE_THROWS_WITH(load(with("  overwrite: {a: 1}\n")),
                            "config.yaml:8:14: output.overwrite: expected true or false, got a map");
  CATCH_REQUIRE_THROWS_WITH(load("model:\n  path: [a, b]\n"),
                            "config.yaml:2:9: model.path: expected a string, got a list");
}

CATCH_TEST_CASE("wrong scalar types", "[io][plan][errors]") {
  CATCH_REQUIRE_THROWS_WITH(load(last("task", "  max_seq_len: abc\n")),
                            "config.yaml:8:16: task.max_seq_len: expected an integer, got \"abc\"");
  CATCH_REQUIRE_THROWS_WITH(load(last("task", "  max_seq_len: 12.5\n")),
                            "config.yaml:8:16: task.max_seq_len: expected an integer, got \"12.5\"");
  CATCH_REQUIRE_THROWS_WITH(
      load(last("task", "  max_seq_len: \"128\"\n")),
      "config.yaml:8:16: task.max_seq_len: expected an integer, got the string \"128\" (remove the "
      "quotes)");
  CATCH_REQUIRE_THROWS_WITH(
      load(with("runtime:\n  seed: ${SEED}\n")),
      "config.yaml:9:9: runtime.seed: expected an integer, got \"${SEED}\" (${VAR} is expanded in "
      "string options only)");
  CATCH_REQUIRE_THROWS_WITH(load(with("runtime:\n  seed: 99999999999999999999\n")),
                            "config.yaml:9:9: runtime.seed: expected an integer, got "
                            "99999999999999999999 (too large)");
  CATCH_REQUIRE_THROWS_WITH(load(with("  overwrite: yes\n")),
                            "config.yaml:8:14: output.overwrite: expected true or false, got \"yes\"");
  CATCH_REQUIRE_THROWS_WITH(load(last("task", "  limit:\n")),
                            "config.yaml:8:3: task.limit: expected an integer, got an empty value");
  CATCH_REQUIRE_THROWS_WITH(load(with("runtime:\n  device: ~\n")),
                            "config.yaml:9:3: runtime.device: expected a string, got an empty value");
}

CATCH_TEST_CASE("values out of range or not allowed", "[io][plan][errors]") {
  // Pruning steps must each remove more heads: checked with the config, not when the curve is made.
  CATCH_REQUIRE_THROWS_WITH(load(with("pruning:\n  schedule: percent\n  fractions: [0.5, 0.2]\n")),
                            "config.yaml:10:14: pruning.fractions: item 2: 0.2 does not increase on item 1 (0.5)");
  CATCH_REQUIRE_THROWS_WITH(load(with("pruning:\n  schedule: percent\n  fractions: [0, 1.5]\n")),
                            "config.yaml:10:14: pruning.fractions: item 2: expected a number from 0 to 1, got 1.5");
  CATCH_REQUIRE_THROWS_WITH(load(with("pruning:\n  schedule: percent\n  fractions: []\n")),
                            "config.yaml:10:14: pruning.fractions: expected at least one fraction, got an empty list");
  CATCH_REQUIRE_THROWS_WITH(load(last("task", "  max_seq_len: 1024\n")),
                            "config.yaml:8:16: task.max_seq_len: expected an integer from 3 to 512, "
                            "got 1024");
  CATCH_REQUIRE_THROWS_WITH(load(last("task", "  limit: -1\n")),
                            "config.yaml:8:10: task.limit: expected an integer of at least 0, got -1");
  CATCH_REQUIRE_THROWS_WITH(load(with("runtime:\n  token_budget: 63\n")),
                            "config.yaml:9:17: runtime.token_budget: expected 0 (the device's own) or an "
                            "integer of at least 64, got 63");
  CATCH_REQUIRE_THROWS_WITH(load(with("runtime:\n  token_budget: -1\n")),
                            "config.yaml:9:17: runtime.token_budget: expected 0 (the device's own) or an "
                            "integer of at least 64, got -1");
  CATCH_REQUIRE_THROWS_WITH(load(with("pruning:\n  min_heads_per_layer: 3000000000\n")),
                            "config.yaml:9:24: pruning.min_heads_per_layer: expected an integer from 0 to "
                            "2147483647, got 3000000000");
  // Each thread is a worker with its own buffers: thousands would only exhaust the machine.
  CATCH_REQUIRE_THROWS_WITH(load(with("runtime:\n  threads: 5000\n")),
                            "config.yaml:9:12: runtime.threads: expected an integer from 0 to 4096, got 5000");
  CATCH_REQUIRE_THROWS_WITH(load(with("runtime:\n  attention: fuse\n")),
                            "config.yaml:9:14: runtime.attention: expected one of auto, fused, kernel; got "
                            "\"fuse\" (did you mean fused?)");
  CATCH_REQUIRE_THROWS_WITH(load(with("runtime:\n  streams: 0\n")),
                            "config.yaml:9:12: runtime.streams: expected an integer from 1 to 16, got 0");
  CATCH_REQUIRE_THROWS_WITH(load(last("model", "  head: clasification\n")),
                            "config.yaml:8:9: model.head: expected one of auto, classification, "
                            "regression, similarity; got \"clasification\" (did you mean "
                            "classification?)");
  CATCH_REQUIRE_THROWS_WITH(load(with("sweep:\n  strategy: heads\n")),
                            "config.yaml:9:13: sweep.strategy: expected one of baseline, single-head, "
                            "layer, leave-one-in, random, exhaustive-layer, file; got \"heads\"");
  CATCH_REQUIRE_THROWS_WITH(load(with("runtime:\n  device: gpu\n")),
                            "config.yaml:9:11: runtime.device: expected one of cpu, cuda, cuda:N (N = "
                            "0, 1, ...), auto; got \"gpu\"");
  CATCH_REQUIRE_THROWS_WITH(load(with("runtime:\n  device: \"cuda:\"\n")),
                            "config.yaml:9:11: runtime.device: expected one of cpu, cuda, cuda:N (N = "
                            "0, 1, ...), auto; got \"cuda:\"");
  CATCH_REQUIRE_THROWS_WITH(load(with("runtime:\n  progress: Bar\n")),
                            "config.yaml:9:13: runtime.progress: expected one of auto, bar, lines, "
                            "none; got \"Bar\" (did you mean bar?)");
  // A typo of 1000 for 1000000000 would fill the memory while the masks are drawn.
  CATCH_REQUIRE_THROWS_WITH(load(with("sweep:\n  strategy: random\n  samples: 1000000000\n")),
                            "config.yaml:10:12: sweep.samples: expected an integer from 1 to 1000000, got 1000000000");
  CATCH_REQUIRE_THROWS_WITH(load(with("importance:\n  method: michel\n  batch_size: 9223372036854775807\n")),
                            "config.yaml:10:15: importance.batch_size: expected an integer from 1 to 65536, got "
                            "9223372036854775807");
  CATCH_REQUIRE_THROWS_WITH(load("model: {path: m}\ntask: {name: mnlx, data_dir: d}\noutput: {path: o}\n"),
                            "config.yaml:2:14: task.name: unknown task \"mnlx\" (did you mean mnli?); "
                            "known tasks: cola, sst2, mrpc, stsb, mnli");
}

CATCH_TEST_CASE("missing required options", "[io][plan][errors]") {
  CATCH_REQUIRE_THROWS_WITH(load("task:\n  name: mnli\n  data_dir: d\nmodel:\n  head: auto\n"),
                            "config.yaml:4:1: model.path: required option is missing");
  CATCH_REQUIRE_THROWS_WITH(load("model:\n  path: m\ntask:\n  name: mnli\n  data_dir: d\n"),
                            "config.yaml:1:1: output.path: required option is missing");
  CATCH_REQUIRE_THROWS_WITH(load(""), "config.yaml:1:1: model.path: required option is missing");
  CATCH_REQUIRE_THROWS_WITH(load("# nothing yet\n"),
                            "config.yaml:1:1: model.path: required option is missing");
}

CATCH_TEST_CASE("duplicate keys", "[io][plan][errors]") {
  CATCH_REQUIRE_THROWS_WITH(load(with("  path: again.h5\n")),
                            "config.yaml:8:3: output.path: duplicate option (first at line 7)");
  CATCH_REQUIRE_THROWS_WITH(load(with("model:\n  head: auto\n")),
                            "config.yaml:8:1: model: duplicate section (first at line 1)");
}

CATCH_TEST_CASE("environment variables without a value", "[io][plan][errors]") {
  ::unsetenv("HS_TEST_NOT_SET");
  CATCH_REQUIRE_THROWS_WITH(
      load("model:\n  path: m\ntask:\n  name: cola\n  data_dir: ${HS_TEST_NOT_SET}/glue\n"),
      "config.yaml:5:13: task.data_dir: environment variable HS_TEST_NOT_SET is not set (write "
      "${HS_TEST_NOT_SET:-default} to give a default)");
}

CATCH_TEST_CASE("an empty path names nothing: refused, also when it comes from a variable", "[io][plan][errors]") {
  CATCH_REQUIRE_THROWS_WITH(load("model:\n  path: m\ntask:\n  name: cola\n  data_dir: d\noutput:\n  path: \"\"\n"),
                            "config.yaml:7:9: output.path: expected a non-empty string, got \"\"");
  ::setenv("HS_TEST_EMPTY", "", 1);
  CATCH_REQUIRE_THROWS_WITH(load("model:\n  path: ${HS_TEST_EMPTY}\ntask:\n  name: cola\n  data_dir: d\n"
                                 "output:\n  path: o.h5\n"),
                            "config.yaml:2:9: model.path: expected a non-empty string, got \"\"");
  ::unsetenv("HS_TEST_EMPTY");
  // Where "" is the default, it means "not set".
  CATCH_CHECK(load(with("pruning:\n  ablation_from: \"\"\n")).pruning.ablation_from.empty());
}

CATCH_TEST_CASE("override errors name the --set flag", "[io][plan][errors]") {
  CATCH_REQUIRE_THROWS_WITH(load(kMinimalConfig, {"task.limitt=50"}),
                            "--set task.limitt=50: task.limitt: unknown option (did you mean "
                            "task.limit?)");
  CATCH_REQUIRE_THROWS_WITH(load(kMinimalConfig, {"cache.size=1"}),
                            "--set cache.size=1: cache.size: unknown option");
  CATCH_REQUIRE_THROWS_WITH(load(kMinimalConfig, {"task.limit=abc"}),
                            "--set task.limit=abc: task.limit: expected an integer, got \"abc\"");
  CATCH_REQUIRE_THROWS_WITH(load(kMinimalConfig, {"task.max_seq_len=4096"}),
                            "--set task.max_seq_len=4096: task.max_seq_len: expected an integer from "
                            "3 to 512, got 4096");
  CATCH_REQUIRE_THROWS_WITH(load(kMinimalConfig, {"task.limit"}),
                            "--set task.limit: expected --set SECTION.OPTION=VALUE, e.g. --set "
                            "task.limit=50");
  CATCH_REQUIRE_THROWS_WITH(load(kMinimalConfig, {"task=x"}),
                            "--set task=x: task: is a section; name one of its options (name, "
                            "data_dir, split, max_seq_len, limit, sample)");
  CATCH_REQUIRE_THROWS_WITH(load(kMinimalConfig, {"task.limit=[1"}),
                            "--set task.limit=[1: task.limit: invalid YAML value: end of sequence flow "
                            "not found");
  CATCH_REQUIRE_THROWS_WITH(load(kMinimalConfig, {"task.split="}),
                            "--set task.split=: task.split: expected a string, got an empty value");
}
