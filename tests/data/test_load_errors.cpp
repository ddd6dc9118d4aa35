// Malformed input fails with "FILE:LINE: what is wrong"; nothing is skipped.
#include <sys/stat.h>

#include <filesystem>

#include <catch2/catch.hpp>

#include "data/dataset.h"
#include "temp_dir.h"
#include "util/error.h"

using hs::data::find_task;
using hs::data::load_file;
using hs::data::load_split;
using hs::test::TempDir;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

const char* kRteHeader = "index\tsentence1\tsentence2\tlabel\n";
const char* kStsbHeader =
    "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n";

}  // namespace

CATCH_TEST_CASE("wrong column count names file and line", "[data]") {
  TempDir dir;
  const std::string p = dir.write("RTE/dev.tsv", std::string(kRteHeader) +
                                                     "0\tA.\tB.\tentailment\n"
                                                     "1\tC.\tD.\n");
  CATCH_REQUIRE_THROWS_AS(load_split(find_task("rte"), dir.path(), "dev"), hs::InputError);
  CATCH_REQUIRE_THROWS_WITH(load_split(find_task("rte"), dir.path(), "dev"),
                            StartsWith(p + ":3: ") &&
                                Contains("expected 4 tab-separated columns, found 3"));

  // An extra tab inside a text is as wrong as a missing one.
  const std::string cola = dir.write("CoLA/dev.tsv", "gj04\t1\t\tOne.\ngj04\t1\t\tTwo\tparts.\n");
  CATCH_REQUIRE_THROWS_WITH(load_split(find_task("cola"), dir.path(), "dev"),
                            StartsWith(cola + ":2: ") &&
                                Contains("expected 4 tab-separated columns, found 5"));
}

CATCH_TEST_CASE("blank lines are errors, also at the end", "[data]") {
  TempDir dir;
  const std::string p =
      dir.write("dev.tsv", std::string(kRteHeader) + "0\tA.\tB.\tentailment\n\n");
  CATCH_REQUIRE_THROWS_WITH(load_file(find_task("rte"), p, "dev"),
                            StartsWith(p + ":3: empty line"));
}

CATCH_TEST_CASE("bytes that are not UTF-8 text name file, line and column", "[data]") {
  TempDir dir;
  // Line 3, column 9: a lone 0xFF after "1\tCaf\xC3\xA9 " (the é is two bytes, and valid).
  const std::string bad =
      dir.write("bad.tsv", std::string(kRteHeader) + "0\tA.\tB.\tentailment\n1\tCaf\xC3\xA9 \xFFx.\tB.\tentailment\n");
  CATCH_REQUIRE_THROWS_WITH(load_file(find_task("rte"), bad, "dev"), bad + ":3:9: invalid UTF-8 (byte 0xff)");
  // A truncated sequence: the lead byte of a 3-byte character followed by ASCII.
  const std::string cut = dir.write("cut.tsv", std::string(kRteHeader) + "0\tA\xE2\x82.\tB.\tentailment\n");
  CATCH_REQUIRE_THROWS_WITH(load_file(find_task("rte"), cut, "dev"), cut + ":2:4: invalid UTF-8 (byte 0xe2)");
  const std::string nul =
      dir.write("nul.tsv", std::string(kRteHeader) + "0\tA.\tB" + std::string(1, '\0') + ".\tentailment\n");
  CATCH_REQUIRE_THROWS_WITH(load_file(find_task("rte"), nul, "dev"), nul + ":2:7: NUL byte in a text file");
  // Valid multi-byte text and a byte-order mark pass.
  const std::string good =
      dir.write("good.tsv", "\xEF\xBB\xBF" + std::string(kRteHeader) + "0\tCaf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80.\tB.\tentailment\n");
  CATCH_CHECK(load_file(find_task("rte"), good, "dev").examples.size() == 1);
}

CATCH_TEST_CASE("a label outside the label set", "[data]") {
  TempDir dir;
  const std::string p = dir.write("dev.tsv", std::string(kRteHeader) +
                                                 "0\tA.\tB.\tentailment\n"
                                                 "1\tC.\tD.\tneutral\n");
  CATCH_REQUIRE_THROWS_WITH(load_file(find_task("rte"), p, "dev"),
                            StartsWith(p + ":3: label 'neutral'") &&
                                Contains("entailment, not_entailment"));
  // CoLA's labels are 0/1, not the class names.
  const std::string cola = dir.write("cola.tsv", "gj04\tacceptable\t\tOne.\n");
  CATCH_REQUIRE_THROWS_WITH(load_file(find_task("cola"), cola, "dev"),
                            StartsWith(cola + ":1: label 'acceptable' in column 2 is not one of 0, 1"));
  // WNLI writes its classes as 0/1 too; anything else is rejected.
  const std::string wnli = dir.write("wnli.tsv", std::string(kRteHeader) + "0\tA.\tB.\t2\n");
  CATCH_REQUIRE_THROWS_WITH(load_file(find_task("wnli"), wnli, "dev"), StartsWith(wnli + ":2: label '2'"));
}

CATCH_TEST_CASE("STS-B scores must be numbers in [0, 5]", "[data]") {
  TempDir dir;
  const std::string bad = dir.write("bad.tsv", std::string(kStsbHeader) +
                                                   "0\tg\tf\ty\t0\ts\ts\tA.\tB.\t4.0\n"
                                                   "1\tg\tf\ty\t1\ts\ts\tC.\tD.\t3.5x\n");
  CATCH_REQUIRE_THROWS_WITH(load_file(find_task("stsb"), bad, "dev"),
                            StartsWith(bad + ":3: score '3.5x' in 'score' (column 10) is not a number"));
  const std::string empty = dir.write("empty.tsv", std::string(kStsbHeader) + "0\tg\tf\ty\t0\ts\ts\tA.\tB.\t\n");
  CATCH_REQUIRE_THROWS_WITH(load_file(find_task("stsb"), empty, "dev"),
                            StartsWith(empty + ":2: score ''"));
  const std::string nan = dir.write("nan.tsv", std::string(kStsbHeader) + "0\tg\tf\ty\t0\ts\ts\tA.\tB.\tnan\n");
  CATCH_REQUIRE_THROWS_WITH(load_file(find_task("stsb"), nan, "dev"), StartsWith(nan + ":2: score 'nan'"));
  const std::string high = dir.write("high.tsv", std::string(kStsbHeader) + "0\tg\tf\ty\t0\ts\ts\tA.\tB.\t5.2\n");
  CATCH_REQUIRE_THROWS_WITH(load_file(find_task("stsb"), high, "dev"),
                            StartsWith(high + ":2: score 5.2") && Contains("outside [0, 5]"));
}

CATCH_TEST_CASE("empty texts", "[data]") {
  TempDir dir;
  const std::string p = dir.write("dev.tsv", std::string(kRteHeader) + "0\tA.\t \tentailment\n");
  CATCH_REQUIRE_THROWS_WITH(load_file(find_task("rte"), p, "dev"),
                            StartsWith(p + ":2: empty text in 'sentence2' (column 3)"));
  const std::string sst = dir.write("sst.tsv", "sentence\tlabel\n\t1\n");
  CATCH_REQUIRE_THROWS_WITH(load_file(find_task("sst2"), sst, "dev"),
                            StartsWith(sst + ":2: empty text in 'sentence' (column 1)"));
}

CATCH_TEST_CASE("missing files name every path tried", "[data]") {
  TempDir dir;
  const std::string root = dir.path();
  CATCH_REQUIRE_THROWS_AS(load_split(find_task("stsb"), root, "dev"), hs::InputError);
  CATCH_REQUIRE_THROWS_WITH(load_split(find_task("stsb"), root, "dev"),
                            Contains("no dev file for task stsb") &&
                                Contains(root + "/STS-B/dev.tsv") && Contains(root + "/dev.tsv"));
  CATCH_REQUIRE_THROWS_WITH(load_split(find_task("mnli-mm"), root, "dev"),
                            Contains(root + "/MNLI/dev_mismatched.tsv"));
  CATCH_REQUIRE_THROWS_WITH(load_file(find_task("rte"), root + "/nope.tsv", "dev"),
                            StartsWith(root + "/nope.tsv: cannot open"));
}

CATCH_TEST_CASE("a pipe or a folder where a split file belongs is named, not read", "[data]") {
  // Opening a pipe blocks until something writes to it: the reader must refuse it before opening.
  TempDir dir;
  std::filesystem::create_directories(dir.file("STS-B"));
  const std::string fifo = dir.file("STS-B/dev.tsv");
  CATCH_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CATCH_REQUIRE_THROWS_WITH(load_split(find_task("stsb"), dir.path(), "dev"),
                            fifo + ": is not a regular file (a folder, a device or a pipe)");
  CATCH_REQUIRE_THROWS_WITH(load_file(find_task("stsb"), fifo, "dev"),
                            fifo + ": is not a regular file (a folder, a device or a pipe)");
  // A regular file in the other place is used.
  const std::string flat = dir.write("dev.tsv", std::string(kStsbHeader) + "0\tg\tf\t2012\t1\ts\ts\ta\tb\t1.5\n");
  CATCH_CHECK(load_split(find_task("stsb"), dir.path(), "dev").path == flat);
  std::filesystem::remove(flat);
  std::filesystem::create_directories(dir.file("dev.tsv"));
  CATCH_REQUIRE_THROWS_WITH(load_split(find_task("stsb"), dir.path(), "dev"),
                            fifo + ": is not a regular file (a folder, a device or a pipe)");
}

CATCH_TEST_CASE("headers, empty files, splits and limits", "[data]") {
  TempDir dir;
  CATCH_SECTION("a headerless file where a header is expected") {
    const std::string p = dir.write("dev.tsv", "0\tA.\tB.\tentailment\n");
    CATCH_REQUIRE_THROWS_WITH(load_file(find_task("rte"), p, "dev"),
                              StartsWith(p + ":1: expected a rte header with columns sentence1, "
                                             "sentence2, label"));
  }
  CATCH_SECTION("a header too narrow for a column it does not name") {
    const std::string p = dir.write("dev.tsv", "sentence\nA.\n");
    CATCH_REQUIRE_THROWS_WITH(load_file(find_task("sst2"), p, "dev"),
                              StartsWith(p + ":1: the header has no column 'label'"));
  }
  CATCH_SECTION("no data rows") {
    const std::string header_only = dir.write("h.tsv", kRteHeader);
    CATCH_REQUIRE_THROWS_WITH(load_file(find_task("rte"), header_only, "dev"),
                              Contains(header_only + ": no data rows"));
    const std::string empty = dir.write("e.tsv", "");
    CATCH_REQUIRE_THROWS_WITH(load_file(find_task("rte"), empty, "dev"), Contains("empty file"));
    CATCH_REQUIRE_THROWS_WITH(load_file(find_task("cola"), empty, "dev"), Contains("no data rows"));
  }
  CATCH_SECTION("unknown split and negative limit") {
    const std::string p = dir.write("RTE/dev.tsv", std::string(kRteHeader) + "0\tA.\tB.\tentailment\n");
    CATCH_REQUIRE_THROWS_WITH(load_split(find_task("rte"), dir.path(), "test"),
                              Contains("unknown split 'test'"));
    CATCH_REQUIRE_THROWS_WITH(load_split(find_task("rte"), dir.path(), "dev", -1),
                              Contains("row limit"));
  }
  CATCH_SECTION("limit stops before a later bad row") {
    const std::string p = dir.write("RTE/dev.tsv", std::string(kRteHeader) +
                                                       "0\tA.\tB.\tentailment\n"
                                                       "1\tC.\tD.\tnot_entailment\n"
                                                       "2\tbroken\n");
    CATCH_CHECK(load_split(find_task("rte"), dir.path(), "dev", 2).examples.size() == 2);
    CATCH_REQUIRE_THROWS_WITH(load_split(find_task("rte"), dir.path(), "dev", 3),
                              StartsWith(p + ":4: "));
    CATCH_REQUIRE_THROWS_AS(load_split(find_task("rte"), dir.path(), "dev"), hs::InputError);
  }
}
