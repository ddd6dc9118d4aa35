// The pooler + classifier path against Hugging Face's BertForSequenceClassification: a folder laid out
// as a fine-tuned checkpoint ("bert."-prefixed encoder, classifier.* outside the prefix, id2label in
// config.json) built from the MiniLM weights and the seeded classifiers of tests/golden/heads.*
// (make_golden.py, part `heads`), for a 2-class RTE head and a 1-output STS-B regression head.
#include <string>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "checkpoint_fixtures.h"
#include "classifier_checkpoint.h"
#include "model/bert.h"
#include "model/model_dir.h"
#include "model/safetensors.h"
#include "golden_tensors.h"
#include "test_env.h"

using hs::model::SafetensorsFile;
using hs::test::fixture;
using hs::test::max_abs;

namespace {

// Max-abs on the logits. The reference's own float32 error is ~1e-6 (heads.json,
// fp32_vs_fp64_max_abs); the pooler output is within 2e-7 (minilm_forward.json).
constexpr double kLogitTol = 1e-5;

}  // namespace

CATCH_TEST_CASE("Classification and regression heads match Hugging Face's BertForSequenceClassification",
                "[model][golden][heads]") {
  HS_REQUIRE_MODEL(minilm);
  const std::string golden = hs::test::golden_dir();
  const SafetensorsFile g = SafetensorsFile::open(golden + "/heads.safetensors");
  const nlohmann::json meta = hs::test::read_json(golden + "/heads.json");
  c10::InferenceMode no_grad;

  for (const char* task : {"rte", "stsb"}) {
    CATCH_SECTION(task) {
      const nlohmann::json& tm = meta["tasks"][task];
      const int K = tm["config"]["num_labels"].get<int>();
      hs::test::TempDir tmp;
      hs::test::write_classifier_model_dir(tmp.path(), minilm, golden, task);

      const hs::model::ModelDir dir = hs::model::inspect_model_dir(tmp.path());
      CATCH_CHECK(dir.weight_prefix == "bert.");
      CATCH_CHECK(dir.has_pooler);
      CATCH_CHECK(dir.has_classifier);
      CATCH_CHECK(dir.config.num_labels == K);
      CATCH_REQUIRE(static_cast<int>(dir.config.id2label.size()) == K);
      for (int k = 0; k < K; ++k) {
        CATCH_CHECK(dir.config.id2label[k] == tm["config"]["id2label"][std::to_string(k)].get<std::string>());
      }

      const hs::model::BertModel model = hs::model::BertModel::load(dir);
      CATCH_REQUIRE(model.has_pooler());
      CATCH_REQUIRE(model.has_classifier());
      const std::string t(task);
      // Loaded exactly, not transposed or re-ordered.
      CATCH_CHECK(at::equal(model.weights().classifier_w, fixture(g, t + ".classifier.weight")));
      CATCH_CHECK(at::equal(model.weights().classifier_b, fixture(g, t + ".classifier.bias")));

      const hs::model::EncoderInput in{fixture(g, t + ".input_ids"), fixture(g, t + ".token_type_ids"),
                                       fixture(g, t + ".attention_mask")};
      for (const char* mask : {"full", "partial_a"}) {
        const at::Tensor gates = fixture(g, std::string(mask) + ".head_mask");
        const at::Tensor logits = model.classify(model.forward(in, gates));
        const at::Tensor ref = fixture(g, t + "." + mask + ".logits");
        CATCH_REQUIRE(logits.sizes() == ref.sizes());
        const double d = max_abs(logits, ref);
        CATCH_INFO(task << " " << mask << ": max |logits - HF| = " << d);
        CATCH_CHECK(d <= kLogitTol);
        if (K > 1) {
          // The checkpoint's own class ids (before any mapping onto the task's label order).
          const at::Tensor cls = logits.argmax(1);
          const auto expected = tm["masks"][mask]["predicted_class_ids"].get<std::vector<int64_t>>();
          for (int64_t i = 0; i < cls.size(0); ++i) CATCH_CHECK(cls[i].item<int64_t>() == expected[i]);
        }
      }
    }
  }
}
