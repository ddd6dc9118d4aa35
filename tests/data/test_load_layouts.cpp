// Layouts not shipped here (MNLI, QQP) and format variants, written as tiny files in the
// official column layouts.
#include <catch2/catch.hpp>

#include "data/dataset.h"
#include "temp_dir.h"
#include "util/error.h"

using hs::data::Dataset;
using hs::data::find_task;
using hs::data::load_file;
using hs::data::load_split;
using hs::test::TempDir;

namespace {

const char* kMnliDevHeader =
    "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
    "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tlabel2\tlabel3\tlabel4\t"
    "label5\tgold_label\n";
const char* kMnliTrainHeader =
    "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
    "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n";

std::string mnli_dev_row(int i, const std::string& s1, const std::string& s2,
                         const std::string& gold) {
  return std::to_string(i) + "\t63735\t63735n\tslate\t( ( The x ) )\t( y )\t(ROOT (S))\t(ROOT (S))\t" +
         s1 + "\t" + s2 + "\t" + gold + "\tneutral\tneutral\tneutral\tneutral\t" + gold + "\n";
}

}  // namespace

CATCH_TEST_CASE("MNLI dev (16 columns) and train (12 columns)", "[data]") {
  TempDir dir;
  dir.write("MNLI/dev_matched.tsv",
            std::string(kMnliDevHeader) +
                mnli_dev_row(0, "The new rights are nice enough", "Everyone really likes the newest benefits ",
                             "neutral") +
                mnli_dev_row(1, "This site includes a list.", "The Government Executive articles are on the site.",
                             "entailment") +
                mnli_dev_row(2, "It is raining \" hard", "It is dry.", "contradiction"));
  dir.write("MNLI/dev_mismatched.tsv",
            std::string(kMnliDevHeader) + mnli_dev_row(0, "Your contribution helped.", "It did not help.",
                                                       "contradiction"));
  dir.write("MNLI/train.tsv",
            std::string(kMnliTrainHeader) +
                "0\t31193\t31193n\tgovernment\t( x )\t( y )\t(ROOT)\t(ROOT)\tConceptually cream "
                "skimming has two basic dimensions - product and geography .\tProduct and geography "
                "are what make cream skimming work . \tneutral\tneutral\n");

  const Dataset dev = load_split(find_task("mnli"), dir.path(), "dev");
  CATCH_REQUIRE(dev.examples.size() == 3);
  CATCH_CHECK(dev.examples[0].text_a == "The new rights are nice enough");
  CATCH_CHECK(dev.examples[0].text_b == "Everyone really likes the newest benefits ");
  CATCH_CHECK(dev.examples[0].label == 1.0);  // neutral
  CATCH_CHECK(dev.examples[1].label == 0.0);  // entailment
  CATCH_CHECK(dev.examples[2].label == 2.0);  // contradiction
  CATCH_CHECK(dev.examples[2].text_a == "It is raining \" hard");
  CATCH_CHECK(dev.examples[2].line == 4);

  const Dataset mm = load_split(find_task("mnli-mm"), dir.path(), "dev");
  CATCH_REQUIRE(mm.examples.size() == 1);
  CATCH_CHECK(mm.examples[0].text_b == "It did not help.");
  CATCH_CHECK(mm.examples[0].label == 2.0);
  CATCH_CHECK(mm.path.find("dev_mismatched.tsv") != std::string::npos);

  const Dataset train = load_split(find_task("mnli"), dir.path() + "/MNLI", "train");
  CATCH_REQUIRE(train.examples.size() == 1);
  CATCH_CHECK(train.examples[0].text_a ==
              "Conceptually cream skimming has two basic dimensions - product and geography .");
  CATCH_CHECK(train.examples[0].label == 1.0);
}

CATCH_TEST_CASE("MNLI gold_label is the last column even without its name", "[data]") {
  TempDir dir;
  // Header names only the sentences; the label falls back to the documented last column.
  const std::string path = dir.write(
      "dev_matched.tsv", "a\tb\tc\td\te\tf\tg\th\tsentence1\tsentence2\tl1\tgold\n"
                         "0\t1\t2\t3\t4\t5\t6\t7\tP.\tH.\tneutral\tentailment\n");
  const Dataset ds = load_file(find_task("mnli"), path, "dev");
  CATCH_CHECK(ds.examples[0].label == 0.0);
  CATCH_CHECK(ds.examples[0].text_a == "P.");
}

CATCH_TEST_CASE("QQP in the official layout", "[data]") {
  TempDir dir;
  dir.write("QQP/dev.tsv",
            "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
            "201359\t303345\t303346\tWhy are African-Americans so beautiful?\tWhy are hispanics so "
            "beautiful?\t0\n"
            "263843\t69383\t380476\tI want to pursue PhD in Computer Science about social network,"
            "what is the open problem in social networks?\tI handle social media for a non-profit. "
            "Should I start going to social media networking events? Are there any good ones in the "
            "bay area?\t0\n"
            "172974\t266948\t175089\tIs there a reason why we should travel alone?\tWhat are some "
            "reasons to travel alone?\t1");
  const Dataset ds = load_split(find_task("QQP"), dir.path(), "dev");
  CATCH_REQUIRE(ds.examples.size() == 3);
  CATCH_CHECK(ds.examples[0].text_a == "Why are African-Americans so beautiful?");
  CATCH_CHECK(ds.examples[0].text_b == "Why are hispanics so beautiful?");
  CATCH_CHECK(ds.examples[0].label == 0.0);
  CATCH_CHECK(ds.examples[2].label == 1.0);
  CATCH_CHECK(ds.examples[2].text_b == "What are some reasons to travel alone?");
}

CATCH_TEST_CASE("MRPC with or without BOM, columns found by name", "[data]") {
  TempDir dir;
  const std::string row = "1\t1\t2\tFirst .\tSecond .\n";
  const std::string with_bom =
      dir.write("bom/dev.tsv", "\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n" + row);
  const std::string without_bom =
      dir.write("plain/dev.tsv", "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n" + row);
  // Columns in another order resolve by header name.
  const std::string reordered =
      dir.write("reordered/dev.tsv", "#1 String\t#2 String\tQuality\nFirst .\tSecond .\t0\n");
  for (const std::string& p : {with_bom, without_bom}) {
    const Dataset ds = load_file(find_task("mrpc"), p, "dev");
    CATCH_CHECK(ds.examples[0].text_a == "First .");
    CATCH_CHECK(ds.examples[0].text_b == "Second .");
    CATCH_CHECK(ds.examples[0].label == 1.0);
  }
  const Dataset ds = load_file(find_task("mrpc"), reordered, "dev");
  CATCH_CHECK(ds.examples[0].text_a == "First .");
  CATCH_CHECK(ds.examples[0].label == 0.0);
}

CATCH_TEST_CASE("CRLF line ends, missing final newline and a BOM on a headerless file", "[data]") {
  TempDir dir;
  const std::string rte = dir.write("RTE/dev.tsv",
                                    "index\tsentence1\tsentence2\tlabel\r\n"
                                    "0\tA.\tB.\tentailment\r\n"
                                    "1\tC.\tD.\tnot_entailment");
  const Dataset ds = load_split(find_task("rte"), dir.path(), "dev");
  CATCH_REQUIRE(ds.examples.size() == 2);
  CATCH_CHECK(ds.examples[0].text_b == "B.");
  CATCH_CHECK(ds.examples[1].label == 1.0);

  const std::string cola = dir.write("CoLA/dev.tsv", "\xEF\xBB\xBFgj04\t1\t\tFine.\ngj04\t0\t*\tBad bad.\n");
  const Dataset c = load_split(find_task("cola"), dir.path(), "dev");
  CATCH_REQUIRE(c.examples.size() == 2);
  CATCH_CHECK(c.examples[0].text_a == "Fine.");
  CATCH_CHECK(c.examples[0].label == 1.0);
  CATCH_CHECK(c.examples[1].label == 0.0);
  CATCH_CHECK(c.examples[1].line == 2);
}

CATCH_TEST_CASE("STS-B scores parse as numbers", "[data]") {
  TempDir dir;
  const std::string header =
      "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n";
  dir.write("STS-B/dev.tsv", header + "0\tg\tf\ty\t0\ts\ts\tA.\tB.\t3.800\n" +
                                 "1\tg\tf\ty\t1\ts\ts\tC.\tD.\t0\n" + "2\tg\tf\ty\t2\ts\ts\tE.\tF.\t5\n");
  const Dataset ds = load_split(find_task("sts-b"), dir.path(), "dev");
  CATCH_REQUIRE(ds.examples.size() == 3);
  CATCH_CHECK(ds.examples[0].label == 3.8);
  CATCH_CHECK(ds.examples[1].label == 0.0);
  CATCH_CHECK(ds.examples[2].label == 5.0);
  CATCH_CHECK(ds.examples[2].text_b == "F.");
}
