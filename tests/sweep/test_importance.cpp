// Gradient importance against Hugging Face: tests/golden/importance.json (make_golden.py) holds both
// variants computed with transformers' BertModel on the first 24 STS-B dev pairs in batches of 8,
// under the full mask and a pruned one. Raw values within 1e-4 relative (float32 gradients summed in
// a different order), normalised ones within 1e-4 absolute.
#include <cmath>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <ATen/ATen.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "sweep/head.h"
#include "sweep/importance.h"
#include "data/glue_tasks.h"
#include "model/model_dir.h"
#include "model/threads.h"
#include "classifier_checkpoint.h"
#include "glue_inputs.h"
#include "temp_dir.h"
#include "test_env.h"
#include "text/tokenizer.h"

namespace {

at::Tensor from_json(const nlohmann::json& rows) {
  std::vector<double> v;
  for (const auto& r : rows)
    for (double x : r) v.push_back(x);
  return at::tensor(v, at::kDouble).view({static_cast<int64_t>(rows.size()), -1});
}

double max_rel_diff(const at::Tensor& ours, const at::Tensor& ref) {
  return ((ours - ref).abs() / ref.abs().clamp_min(1e-12)).max().item<double>();
}

// got against one golden entry r (importance.json's results.<variant>.<mask>) computed under `gates`.
void check_golden(const hs::sweep::Importance& got, const nlohmann::json& r, const std::string& what,
                  const std::string& method, const at::Tensor& gates /* (L, H) */) {
  CATCH_CHECK(got.tokens == r["tokens"].get<int64_t>());
  CATCH_CHECK(got.examples == 24);
  const double raw_diff = max_rel_diff(got.raw, from_json(r["raw"]));
  const double norm_diff = (got.scores - from_json(r["normalized"])).abs().max().item<double>();
  CATCH_WARN(what << ": max relative raw difference " << raw_diff << ", max normalised difference " << norm_diff);
  CATCH_CHECK(raw_diff <= 1e-4);
  CATCH_CHECK(norm_diff <= 1e-4);
  if (r.contains("mean_loss")) CATCH_CHECK(got.mean_loss == Approx(r["mean_loss"].get<double>()).epsilon(1e-5));
  // Normalisation by hand: michel's rows have unit l2 norm; bertology spans [0, 1].
  if (method == "michel") {
    CATCH_CHECK(got.scores.pow(2).sum(1).sqrt().sub(1).abs().max().item<double>() < 1e-9);
    // Michel's score is taken after the gate: a gated-off head scores exactly 0.
    CATCH_CHECK(got.raw.masked_select(gates.to(at::kDouble) == 0).abs().sum().item<double>() == 0.0);
  } else {
    CATCH_CHECK(got.scores.min().item<double>() == 0.0);
    CATCH_CHECK(got.scores.max().item<double>() == 1.0);
  }
}

}  // namespace

CATCH_TEST_CASE("gradient importance equals Hugging Face's, both variants, full and pruned masks",
                "[sweep][importance][golden]") {
  HS_REQUIRE_MODEL(model_path);
  HS_REQUIRE_GLUE(glue);
  std::ifstream f(hs::test::golden_dir() + "/importance.json");
  const nlohmann::json ref = nlohmann::json::parse(f);
  const hs::test::GlueInputs s(model_path, glue, ref["pairs"].get<int64_t>());
  const auto& [model, task, tok, head, inputs, gold] = std::tie(s.model, s.task, s.tok, s.head, s.inputs, s.gold);
  const at::Tensor pruned = from_json(ref["pruned_mask"]).to(at::kFloat);

  // michel_cls: the same similarity head pooled from [CLS], where only [CLS]'s last-layer output
  // reaches the loss and that layer is divided by the examples instead of the tokens.
  hs::sweep::HeadSpec cls_head = head;
  cls_head.pooling = hs::model::Pooling::Cls;
  for (const std::string variant : {"michel", "michel_cls", "bertology"}) {
    const std::string method = variant == "bertology" ? "bertology" : "michel";
    for (const std::string mask : {"full", "pruned"}) {
      CATCH_INFO(variant << " under the " << mask << " mask");
      const nlohmann::json& r = ref["results"][variant + "." + mask];
      hs::sweep::ImportanceOptions opts;
      opts.method = method;
      opts.batch_size = ref["batch_size"].get<int64_t>();
      const at::Tensor gates = mask == "full" ? at::ones({6, 12}) : pruned;
      const hs::sweep::Importance got = hs::sweep::gradient_importance(
          model, variant == "michel_cls" ? cls_head : head, task, inputs, gold, gates, tok.pad_id(), opts);
      check_golden(got, r, variant + " " + mask, method, gates);
    }
  }
  // Batches run on workers; the result does not depend on how many.
  for (const std::string method : {"michel", "bertology"}) {
    hs::sweep::ImportanceOptions opts;
    opts.method = method;
    opts.batch_size = 5;
    const int saved = hs::model::compute_threads();
    hs::model::set_compute_threads(1);
    const auto one = hs::sweep::gradient_importance(model, head, task, inputs, gold, pruned, tok.pad_id(), opts);
    hs::model::set_compute_threads(3);
    const auto three = hs::sweep::gradient_importance(model, head, task, inputs, gold, pruned, tok.pad_id(), opts);
    hs::model::set_compute_threads(saved);
    CATCH_CHECK(at::equal(one.raw, three.raw));
    CATCH_CHECK(one.mean_loss == three.mean_loss);
  }
  hs::sweep::ImportanceOptions bad;
  bad.method = "taylor";
  CATCH_CHECK_THROWS_AS(
      hs::sweep::gradient_importance(model, head, task, inputs, gold, at::ones({6, 12}), tok.pad_id(), bad),
      std::invalid_argument);
}

CATCH_TEST_CASE("gradient importance of a classifier equals Hugging Face's, the last layer divided by examples",
                "[sweep][importance][golden]") {
  // A classifier reads only [CLS] through BERT's pooler, whatever model.pooling says (a checkpoint
  // without a sentence-transformers Pooling module resolves to mean): michel divides its last layer
  // by the examples, as the authors' code does for BERT on MNLI.
  HS_REQUIRE_MODEL(model_path);
  HS_REQUIRE_GLUE(glue);
  std::ifstream f(hs::test::golden_dir() + "/importance.json");
  const nlohmann::json ref = nlohmann::json::parse(f);
  const hs::test::TempDir tmp;
  hs::test::write_classifier_model_dir(tmp.path(), model_path, hs::test::golden_dir(), "rte");
  const hs::test::GlueInputs s(tmp.path(), glue, ref["pairs"].get<int64_t>(), "rte");
  CATCH_REQUIRE(s.head.kind == hs::sweep::HeadKind::Classification);
  CATCH_REQUIRE(s.head.pooling == hs::model::Pooling::Mean);
  CATCH_CHECK(hs::sweep::reads_cls_only(s.head));
  const at::Tensor pruned = from_json(ref["pruned_mask"]).to(at::kFloat);
  for (const std::string method : {"michel", "bertology"}) {
    for (const std::string mask : {"full", "pruned"}) {
      CATCH_INFO(method << " classifier under the " << mask << " mask");
      hs::sweep::ImportanceOptions opts;
      opts.method = method;
      opts.batch_size = ref["batch_size"].get<int64_t>();
      const at::Tensor gates = mask == "full" ? at::ones({6, 12}) : pruned;
      const hs::sweep::Importance got =
          hs::sweep::gradient_importance(s.model, s.head, s.task, s.inputs, s.gold, gates, s.tok.pad_id(), opts);
      check_golden(got, ref["results"][method + "_classifier." + mask], method + " classifier " + mask, method, gates);
    }
  }
}

namespace {

// Keeps parts in memory, counting the batches computed; `skip` pre-filled parts are read back.
class MemoryParts : public hs::sweep::ImportanceParts {
 public:
  std::optional<hs::sweep::ImportancePart> find(int64_t batch) const override {
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto it = parts.find(batch);
    if (it == parts.end()) return std::nullopt;
    return it->second;
  }
  void add(int64_t batch, const hs::sweep::ImportancePart& part) override {
    const std::lock_guard<std::mutex> lock(mutex_);
    parts[batch] = part;
    ++computed;
  }
  std::map<int64_t, hs::sweep::ImportancePart> parts;
  int computed = 0;

 private:
  mutable std::mutex mutex_;
};

}  // namespace

CATCH_TEST_CASE("gradient importance resumes at its unfinished batches with the same result", "[sweep][importance]") {
  HS_REQUIRE_MODEL(model_path);
  HS_REQUIRE_GLUE(glue);
  const hs::test::GlueInputs s(model_path, glue, 24);
  at::Tensor gates = at::ones({6, 12});
  gates[2][5] = 0;
  for (const std::string method : {"michel", "bertology"}) {
    CATCH_INFO(method);
    hs::sweep::ImportanceOptions opts;
    opts.method = method;
    opts.batch_size = 5;  // 5 batches, the last of 4 examples
    const auto plain = hs::sweep::gradient_importance(s.model, s.head, s.task, s.inputs, s.gold, gates, s.tok.pad_id(), opts);
    MemoryParts all;
    const auto kept = hs::sweep::gradient_importance(s.model, s.head, s.task, s.inputs, s.gold, gates, s.tok.pad_id(), opts, &all);
    CATCH_CHECK(all.computed == 5);
    CATCH_CHECK(at::equal(kept.raw, plain.raw));
    // As a run stopped after batches 0, 1 and 3 left them: only 2 and 4 are computed, and the
    // result is the uninterrupted one, bit for bit (bertology's running sum takes the batches in order).
    MemoryParts some;
    for (int64_t k : {0, 1, 3}) some.parts[k] = all.parts[k];
    const auto resumed = hs::sweep::gradient_importance(s.model, s.head, s.task, s.inputs, s.gold, gates, s.tok.pad_id(), opts, &some);
    CATCH_CHECK(some.computed == 2);
    CATCH_CHECK(at::equal(resumed.raw, plain.raw));
    CATCH_CHECK(at::equal(resumed.scores, plain.scores));
    CATCH_CHECK(resumed.mean_loss == plain.mean_loss);
    CATCH_CHECK(resumed.tokens == plain.tokens);
    CATCH_CHECK(resumed.examples == 24);
    // What is read back is what is used: a changed part changes the result.
    MemoryParts changed;
    changed.parts[0] = all.parts[0];
    changed.parts[0].loss += 24;
    const auto used = hs::sweep::gradient_importance(s.model, s.head, s.task, s.inputs, s.gold, gates, s.tok.pad_id(), opts, &changed);
    CATCH_CHECK(used.mean_loss == Approx(plain.mean_loss + 1).epsilon(1e-12));
  }
}
