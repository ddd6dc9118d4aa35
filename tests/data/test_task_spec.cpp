#include <catch2/catch.hpp>

#include "data/task_spec.h"
#include "util/error.h"

using hs::data::find_task;
using hs::data::TaskKind;
using Catch::Matchers::Contains;

CATCH_TEST_CASE("task_names lists every GLUE task once, in GLUE's order", "[data]") {
  const std::vector<std::string> expected = {"cola", "sst2", "mrpc", "stsb", "qqp", "mnli",
                                             "mnli-mm", "qnli", "rte", "wnli"};
  CATCH_CHECK(hs::data::task_names() == expected);
  for (const std::string& name : expected) CATCH_CHECK(find_task(name).name == name);
}

CATCH_TEST_CASE("task names ignore case, '-' and '_'", "[data]") {
  CATCH_CHECK(find_task("STS-B").name == "stsb");
  CATCH_CHECK(find_task("sts_b").name == "stsb");
  CATCH_CHECK(find_task("sst-2").name == "sst2");
  CATCH_CHECK(find_task("SST2").name == "sst2");
  CATCH_CHECK(find_task("CoLA").name == "cola");
  CATCH_CHECK(find_task("MNLI_MM").name == "mnli-mm");
  CATCH_CHECK(find_task("mnli-mm").name == "mnli-mm");
  CATCH_CHECK(find_task("mnli-m").name == "mnli");
  CATCH_CHECK(find_task("MNLI").name == "mnli");
  CATCH_CHECK(find_task("mnli-matched").name == "mnli");
  CATCH_CHECK(find_task("mnli_mismatched").name == "mnli-mm");
}

CATCH_TEST_CASE("an unknown task name lists the known ones", "[data]") {
  CATCH_REQUIRE_THROWS_AS(find_task("squad"), hs::InputError);
  CATCH_REQUIRE_THROWS_WITH(find_task("squad"),
                            Contains("unknown GLUE task 'squad'") &&
                                Contains("cola, sst2, mrpc, stsb, qqp, mnli, mnli-mm, qnli, rte, wnli"));
  CATCH_REQUIRE_THROWS_AS(find_task(""), hs::InputError);
  CATCH_REQUIRE_THROWS_AS(find_task("mnli-x"), hs::InputError);
}

CATCH_TEST_CASE("labels follow the Hugging Face label order", "[data]") {
  using V = std::vector<std::string>;
  CATCH_CHECK(find_task("cola").labels == V{"unacceptable", "acceptable"});
  CATCH_CHECK(find_task("cola").label_tokens == V{"0", "1"});
  CATCH_CHECK(find_task("sst2").labels == V{"negative", "positive"});
  CATCH_CHECK(find_task("mrpc").labels == V{"not_equivalent", "equivalent"});
  CATCH_CHECK(find_task("qqp").labels == V{"not_duplicate", "duplicate"});
  CATCH_CHECK(find_task("mnli").labels == V{"entailment", "neutral", "contradiction"});
  CATCH_CHECK(find_task("mnli-mm").labels == V{"entailment", "neutral", "contradiction"});
  CATCH_CHECK(find_task("qnli").labels == V{"entailment", "not_entailment"});
  CATCH_CHECK(find_task("rte").labels == V{"entailment", "not_entailment"});
  CATCH_CHECK(find_task("wnli").labels == V{"not_entailment", "entailment"});
  CATCH_CHECK(find_task("wnli").label_tokens == V{"0", "1"});
  CATCH_CHECK(find_task("stsb").labels.empty());
  CATCH_CHECK(find_task("stsb").kind == TaskKind::Regression);
  CATCH_CHECK(find_task("stsb").num_outputs() == 1);
  CATCH_CHECK(find_task("mnli").num_outputs() == 3);
  CATCH_CHECK(find_task("cola").kind == TaskKind::Classification);
}

CATCH_TEST_CASE("official metrics, primary first", "[data]") {
  using V = std::vector<std::string>;
  CATCH_CHECK(find_task("cola").metrics == V{"mcc"});
  CATCH_CHECK(find_task("sst2").metrics == V{"accuracy"});
  CATCH_CHECK(find_task("mrpc").metrics == V{"f1", "accuracy"});
  CATCH_CHECK(find_task("stsb").metrics == V{"spearman", "pearson"});
  CATCH_CHECK(find_task("qqp").metrics == V{"f1", "accuracy"});
  for (const char* t : {"mnli", "mnli-mm", "qnli", "rte", "wnli"}) {
    CATCH_CHECK(find_task(t).metrics == V{"accuracy"});
  }
}

CATCH_TEST_CASE("pairs and split files", "[data]") {
  CATCH_CHECK_FALSE(find_task("cola").has_pair());
  CATCH_CHECK_FALSE(find_task("sst2").has_pair());
  for (const char* t : {"mrpc", "stsb", "qqp", "mnli", "mnli-mm", "qnli", "rte", "wnli"}) {
    CATCH_CHECK(find_task(t).has_pair());
  }
  CATCH_CHECK(find_task("mnli").split_file("dev").file == "dev_matched.tsv");
  CATCH_CHECK(find_task("mnli-mm").split_file("dev").file == "dev_mismatched.tsv");
  CATCH_CHECK(find_task("mnli-mm").split_file("train").file == "train.tsv");
  CATCH_CHECK(find_task("mnli").dir_name == "MNLI");
  CATCH_CHECK(find_task("mnli-mm").dir_name == "MNLI");
  CATCH_CHECK(find_task("stsb").dir_name == "STS-B");
  CATCH_CHECK(find_task("rte").split_file("validation").split == "dev");
  CATCH_REQUIRE_THROWS_WITH(find_task("rte").split_file("test"),
                            Contains("unknown split 'test' for task rte (known: train, dev)"));
}
