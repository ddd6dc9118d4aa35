// Task heads on checkpoints laid out as Hugging Face's BertForSequenceClassification (built from the
// MiniLM weights and the seeded classifiers of tests/golden/heads.*): the RTE head's id2label is the
// reverse of the task's label order, so predictions must go through class_map to match HF's labels.
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../model/checkpoint_fixtures.h"
#include "classifier_checkpoint.h"
#include "data/glue_tasks.h"
#include "model/bert.h"
#include "model/model_dir.h"
#include "model/safetensors.h"
#include "sweep/head.h"
#include "golden_tensors.h"
#include "test_env.h"
#include "util/error.h"

using hs::model::SafetensorsFile;
using hs::test::fixture;
using hs::test::max_abs;
using hs::sweep::HeadKind;

namespace {

// One sequence per example, stored in reverse example order so that example_predictions has to use
// seq_example rather than the row position.
struct Order {
  std::vector<int64_t> seq_example;
  std::vector<int> seq_slot;
  at::Tensor rows;  // (S) row of the fixture batch for each sequence
};

Order reversed(int64_t n) {
  Order o;
  for (int64_t s = 0; s < n; ++s) o.seq_example.push_back(n - 1 - s);
  o.seq_slot.assign(n, 0);
  o.rows = at::from_blob(o.seq_example.data(), {n}, at::kLong).clone();
  return o;
}

}  // namespace

CATCH_TEST_CASE("resolve_head maps a reversed id2label onto the task's label order", "[sweep][heads]") {
  HS_REQUIRE_MODEL(minilm);
  hs::test::TempDir tmp;
  hs::test::write_classifier_model_dir(tmp.path(), minilm, hs::test::golden_dir(), "rte");
  const hs::model::ModelDir dir = hs::model::inspect_model_dir(tmp.path());
  const hs::data::TaskSpec& rte = hs::data::find_task("rte");
  CATCH_REQUIRE(rte.labels == std::vector<std::string>{"entailment", "not_entailment"});
  CATCH_REQUIRE(dir.config.id2label == std::vector<std::string>{"not_entailment", "entailment"});

  for (const char* head : {"auto", "classification"}) {
    const hs::sweep::HeadSpec spec = hs::sweep::resolve_head(dir, rte, head, "auto");
    CATCH_CHECK(spec.kind == HeadKind::Classification);
    CATCH_CHECK(spec.class_map == std::vector<int>{1, 0});
  }
  // Generic names (LABEL_i) are taken to be in the task's order already; so are names in that order.
  hs::model::ModelDir generic = dir;
  generic.config.id2label = {"LABEL_0", "LABEL_1"};
  CATCH_CHECK(hs::sweep::resolve_head(generic, rte, "auto", "auto").class_map == std::vector<int>{0, 1});
  hs::model::ModelDir same = dir;
  same.config.id2label = {"entailment", "not_entailment"};
  CATCH_CHECK(hs::sweep::resolve_head(same, rte, "auto", "auto").class_map == std::vector<int>{0, 1});
  hs::model::ModelDir numbered = dir;
  numbered.config.id2label = {"0", "1"};
  CATCH_CHECK(hs::sweep::resolve_head(numbered, rte, "auto", "auto").class_map == std::vector<int>{0, 1});
  // Names that match only in part, twice, or not at all leave the order unknown: refused, where taking
  // the index order would score a checkpoint with swapped classes as if inverted.
  for (const std::vector<std::string>& names : std::vector<std::vector<std::string>>{
           {"not_entailment", "neutral"}, {"not_entailment", "not_entailment"}, {"foo", "bar"}, {"LABEL_1", "LABEL_0"}}) {
    hs::model::ModelDir odd = dir;
    odd.config.id2label = names;
    CATCH_CAPTURE(names);
    CATCH_CHECK_THROWS_WITH(hs::sweep::resolve_head(odd, rte, "auto", "auto"),
                            Catch::Matchers::StartsWith(dir.path + "/config.json: id2label (0: " + names[0] + ", 1: " +
                                                        names[1] + ") does not name rte's labels (entailment, "
                                                        "not_entailment) one to one"));
  }
  // The regression head does not fit a classification task.
  CATCH_CHECK_THROWS_WITH(hs::sweep::resolve_head(dir, rte, "regression", "auto"),
                          "model.head: regression needs a regression task (stsb), not rte");
  // With the config's places known, the error points at model.head; an automatic choice says what it chose.
  hs::io::OptionWhere where;
  where.set("model.head", "sweep.yaml:3:9");
  CATCH_CHECK_THROWS_WITH(hs::sweep::resolve_head(dir, rte, "regression", "auto", where),
                          "sweep.yaml:3:9: model.head: regression needs a regression task (stsb), not rte");
  const hs::data::TaskSpec& stsb = hs::data::find_task("stsb");
  CATCH_CHECK_THROWS_WITH(hs::sweep::resolve_head(dir, stsb, "auto", "auto", where),
                          "sweep.yaml:3:9: model.head: auto (classification): task stsb is a regression task, which a "
                          "classification head cannot score");
  CATCH_CHECK_THROWS_AS(hs::sweep::resolve_head(dir, stsb, "auto", "auto", where), hs::InputError);
}

CATCH_TEST_CASE("model.pooling chooses a similarity head's pooling; a classifier reads [CLS] whatever it says",
                "[sweep][heads]") {
  HS_REQUIRE_MODEL(minilm);
  const hs::model::ModelDir st = hs::model::inspect_model_dir(minilm);  // 1_Pooling: mean
  const hs::data::TaskSpec& stsb = hs::data::find_task("stsb");
  using hs::model::Pooling;
  const std::vector<std::pair<const char*, Pooling>> cases = {
      {"auto", Pooling::Mean}, {"mean", Pooling::Mean}, {"cls", Pooling::Cls}, {"max", Pooling::Max}};
  for (const auto& [name, pooling] : cases) {
    CATCH_INFO(name);
    const hs::sweep::HeadSpec spec = hs::sweep::resolve_head(st, stsb, "auto", name);
    CATCH_CHECK(spec.kind == HeadKind::Similarity);
    CATCH_CHECK(spec.pooling == pooling);
    CATCH_CHECK(hs::sweep::reads_cls_only(spec) == (pooling == Pooling::Cls));
  }
  hs::test::TempDir tmp;
  hs::test::write_classifier_model_dir(tmp.path(), minilm, hs::test::golden_dir(), "rte");
  const hs::model::ModelDir classifier = hs::model::inspect_model_dir(tmp.path());
  for (const char* name : {"auto", "mean", "max"})
    CATCH_CHECK(hs::sweep::reads_cls_only(hs::sweep::resolve_head(classifier, hs::data::find_task("rte"), "auto", name)));
}

CATCH_TEST_CASE("model.labels names each classifier output's label over config.json's id2label", "[sweep][heads]") {
  HS_REQUIRE_MODEL(minilm);
  hs::test::TempDir tmp;
  hs::test::write_classifier_model_dir(tmp.path(), minilm, hs::test::golden_dir(), "rte");
  const hs::model::ModelDir dir = hs::model::inspect_model_dir(tmp.path());  // id2label: not_entailment, entailment
  const hs::data::TaskSpec& rte = hs::data::find_task("rte");
  hs::io::OptionWhere where;
  where.set("model.labels", "sweep.yaml:4:11");
  using Labels = std::vector<std::string>;
  auto map = [&](const hs::model::ModelDir& d, const Labels& labels) {
    return hs::sweep::resolve_head(d, rte, "auto", "auto", where, labels).class_map;
  };
  CATCH_CHECK(map(dir, {"auto"}) == std::vector<int>{1, 0});
  CATCH_CHECK(map(dir, {"entailment", "not_entailment"}) == std::vector<int>{0, 1});  // the user's word wins
  CATCH_CHECK(map(dir, {"not_entailment", "entailment"}) == std::vector<int>{1, 0});
  // A generic checkpoint trained in another order than the task's (e.g. MNLI under the original
  // BERT code: contradiction, entailment, neutral) is mapped as told, not in the task's order.
  hs::model::ModelDir generic = dir;
  generic.config.id2label = {"LABEL_0", "LABEL_1"};
  CATCH_CHECK(map(generic, {"auto"}) == std::vector<int>{0, 1});
  CATCH_CHECK(map(generic, {"not_entailment", "entailment"}) == std::vector<int>{1, 0});
  // Names id2label cannot place are placed by model.labels.
  hs::model::ModelDir odd = dir;
  odd.config.id2label = {"foo", "bar"};
  CATCH_CHECK(map(odd, {"not_entailment", "entailment"}) == std::vector<int>{1, 0});
  CATCH_CHECK_THROWS_WITH(map(dir, {"entailment"}),
                          "sweep.yaml:4:11: model.labels: 1 label (entailment), but the classifier of " + dir.path +
                              " has 2 outputs");
  CATCH_CHECK_THROWS_WITH(map(dir, {"entailment", "neutral"}),
                          "sweep.yaml:4:11: model.labels: 'neutral' is not a label of rte (entailment, not_entailment)");
  CATCH_CHECK_THROWS_WITH(map(dir, {"entailment", "entailment"}),
                          "sweep.yaml:4:11: model.labels: 'entailment' is named twice: each output needs its own label");
  CATCH_CHECK_THROWS_AS(map(dir, {"entailment", "neutral"}), hs::InputError);
  // Only a classification head has labels.
  const hs::model::ModelDir plain = hs::model::inspect_model_dir(minilm);
  CATCH_CHECK_THROWS_WITH(
      hs::sweep::resolve_head(plain, hs::data::find_task("stsb"), "auto", "auto", where, Labels{"a"}),
      "sweep.yaml:4:11: model.labels: a: only a classification head has labels to name (the head is similarity)");
}

CATCH_TEST_CASE("example_predictions: logits that are not finite give no class", "[sweep][heads]") {
  // argmax would pick the NaN; an overflowed row has no class either. NaN makes the mask's scores
  // undefined (metrics::score) instead of a label that looks real.
  hs::sweep::HeadSpec head;
  head.kind = hs::sweep::HeadKind::Classification;
  head.class_map = {1, 0};
  const at::Tensor logits = at::tensor({0.f, 1.f, NAN, -5.f, INFINITY, 2.f, 3.f, -1.f}).reshape({4, 2});
  const std::vector<int64_t> seq_example = {0, 1, 2, 3};
  const std::vector<int> seq_slot = {0, 0, 0, 0};
  const std::vector<float> p = hs::sweep::example_predictions(head, 4, 1, seq_example, seq_slot, logits);
  CATCH_CHECK(p[0] == 0.0f);  // output 1, mapped to task label 0
  CATCH_CHECK(std::isnan(p[1]));
  CATCH_CHECK(std::isnan(p[2]));
  CATCH_CHECK(p[3] == 1.0f);
}

CATCH_TEST_CASE("example_predictions gives Hugging Face's labels in the task's order", "[sweep][heads][golden]") {
  HS_REQUIRE_MODEL(minilm);
  const std::string golden = hs::test::golden_dir();
  const SafetensorsFile g = SafetensorsFile::open(golden + "/heads.safetensors");
  const nlohmann::json meta = hs::test::read_json(golden + "/heads.json");
  hs::test::TempDir tmp;
  hs::test::write_classifier_model_dir(tmp.path(), minilm, golden, "rte");
  const hs::model::ModelDir dir = hs::model::inspect_model_dir(tmp.path());
  const hs::sweep::HeadSpec head = hs::sweep::resolve_head(dir, hs::data::find_task("rte"), "auto", "auto");
  const hs::model::BertModel model = hs::model::BertModel::load(dir);
  const hs::model::EncoderInput in{fixture(g, "rte.input_ids"), fixture(g, "rte.token_type_ids"),
                                   fixture(g, "rte.attention_mask")};
  const int64_t B = in.input_ids.size(0);
  const Order order = reversed(B);
  c10::InferenceMode no_grad;

  for (const char* mask : {"full", "partial_a"}) {
    CATCH_SECTION(mask) {
      const auto expected = meta["tasks"]["rte"]["masks"][mask]["predicted_labels"].get<std::vector<int>>();
      CATCH_REQUIRE(static_cast<int64_t>(expected.size()) == B);
      // From HF's own logits: only the head's mapping is under test.
      const at::Tensor hf = fixture(g, std::string("rte.") + mask + ".logits").index_select(0, order.rows);
      const std::vector<float> from_hf =
          hs::sweep::example_predictions(head, B, 1, order.seq_example, order.seq_slot, hf);
      // From our forward pass through sequence_outputs.
      const at::Tensor gates = fixture(g, std::string(mask) + ".head_mask");
      const at::Tensor ours = hs::sweep::sequence_outputs(model, head, in, gates).index_select(0, order.rows);
      CATCH_REQUIRE(ours.sizes() == hf.sizes());
      const std::vector<float> from_ours =
          hs::sweep::example_predictions(head, B, 1, order.seq_example, order.seq_slot, ours);
      // Control: reading the classes in index order (ignoring id2label) gets every label wrong.
      hs::sweep::HeadSpec unmapped = head;
      unmapped.class_map = {0, 1};
      const std::vector<float> from_unmapped =
          hs::sweep::example_predictions(unmapped, B, 1, order.seq_example, order.seq_slot, hf);
      for (int64_t i = 0; i < B; ++i) {
        CATCH_INFO("example " << i);
        CATCH_CHECK(from_hf[i] == static_cast<float>(expected[i]));
        CATCH_CHECK(from_ours[i] == static_cast<float>(expected[i]));
        CATCH_CHECK(from_unmapped[i] == static_cast<float>(1 - expected[i]));
      }
    }
  }
}

CATCH_TEST_CASE("The regression head predicts Hugging Face's single logit", "[sweep][heads][golden]") {
  HS_REQUIRE_MODEL(minilm);
  const std::string golden = hs::test::golden_dir();
  const SafetensorsFile g = SafetensorsFile::open(golden + "/heads.safetensors");
  hs::test::TempDir tmp;
  hs::test::write_classifier_model_dir(tmp.path(), minilm, golden, "stsb");
  const hs::model::ModelDir dir = hs::model::inspect_model_dir(tmp.path());
  const hs::data::TaskSpec& stsb = hs::data::find_task("stsb");
  const hs::sweep::HeadSpec head = hs::sweep::resolve_head(dir, stsb, "auto", "auto");
  CATCH_REQUIRE(head.kind == HeadKind::Regression);
  CATCH_CHECK(hs::sweep::resolve_head(dir, stsb, "regression", "auto").kind == HeadKind::Regression);
  // A one-output head cannot be read as a classifier.
  CATCH_CHECK_THROWS(hs::sweep::resolve_head(dir, stsb, "classification", "auto"));

  const hs::model::BertModel model = hs::model::BertModel::load(dir);
  const hs::model::EncoderInput in{fixture(g, "stsb.input_ids"), fixture(g, "stsb.token_type_ids"),
                                   fixture(g, "stsb.attention_mask")};
  const int64_t B = in.input_ids.size(0);
  const Order order = reversed(B);
  c10::InferenceMode no_grad;
  for (const char* mask : {"full", "partial_a"}) {
    CATCH_SECTION(mask) {
      const at::Tensor hf = fixture(g, std::string("stsb.") + mask + ".logits");  // (B, 1)
      const std::vector<float> from_hf = hs::sweep::example_predictions(head, B, 1, order.seq_example, order.seq_slot,
                                                                        hf.index_select(0, order.rows));
      const at::Tensor gates = fixture(g, std::string(mask) + ".head_mask");
      const at::Tensor ours = hs::sweep::sequence_outputs(model, head, in, gates);
      CATCH_REQUIRE(ours.sizes() == hf.sizes());
      const std::vector<float> from_ours = hs::sweep::example_predictions(head, B, 1, order.seq_example, order.seq_slot,
                                                                          ours.index_select(0, order.rows));
      for (int64_t i = 0; i < B; ++i) {
        CATCH_INFO("example " << i);
        CATCH_CHECK(from_hf[i] == hf[i][0].item<float>());
        CATCH_CHECK(std::abs(from_ours[i] - hf[i][0].item<float>()) <= 1e-5);
      }
    }
  }
}
