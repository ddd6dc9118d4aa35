// The naive executor on the real checkpoint and the first 24 STS-B dev pairs: it must agree with
// scoring each mask by hand, and its outputs must not depend on how sequences were batched.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "data/glue_tasks.h"
#include "masks/mask_set.h"
#include "masks/strategies.h"
#include "metrics/score.h"
#include "model/bert.h"
#include "model/model_dir.h"
#include "sweep/executor.h"
#include "sweep/head.h"
#include "sweep/inputs.h"
#include "sweep/progress.h"
#include "test_env.h"
#include "text/tokenizer.h"

using hs::masks::MaskSet;
using hs::sweep::MaskResult;
using hs::sweep::Progress;
using hs::sweep::ProgressMode;
using hs::sweep::SweepProblem;
using Catch::Matchers::StartsWith;

namespace {

constexpr int64_t kExamples = 24;

struct Fixture {
  hs::model::ModelDir dir;
  hs::model::BertModel model;
  hs::data::Dataset dev;
  hs::text::Tokenizer tok;
  hs::sweep::HeadSpec head;

  SweepProblem problem(int64_t token_budget) const {
    SweepProblem p;
    p.model = &model;
    p.head = head;
    p.inputs = hs::sweep::build_inputs(dev, tok, head, 128);
    p.batches = hs::sweep::make_batches(p.inputs, token_budget, tok.pad_id());
    p.metrics = dev.task->metrics;
    for (const auto& ex : dev.examples) p.gold.push_back(ex.label);
    return p;
  }
};

Fixture load(const std::string& glue, const std::string& model_dir) {
  hs::model::ModelDir dir = hs::model::inspect_model_dir(model_dir);
  hs::model::BertModel model = hs::model::BertModel::load(dir);
  const hs::data::TaskSpec& task = hs::data::find_task("stsb");
  hs::data::Dataset dev = hs::data::load_split(task, glue, "dev", kExamples);
  hs::text::Tokenizer tok = hs::text::Tokenizer::from_model_dir(model_dir);
  hs::sweep::HeadSpec head = hs::sweep::resolve_head(dir, task, "auto", "auto");
  return Fixture{std::move(dir), std::move(model), std::move(dev), std::move(tok), head};
}

// Baseline, one head off, one layer off, and every other head off: three kinds of pattern.
MaskSet four_masks(int L, int H) {
  MaskSet set = hs::masks::make_masks("baseline", L, H);
  std::vector<uint8_t> m(static_cast<size_t>(L) * H, 1);
  m[2 * H + 5] = 0;
  set.add(m, "-L2.H5");
  std::fill(m.begin(), m.end(), 1);
  std::fill(m.begin() + 3 * H, m.begin() + 4 * H, 0);
  set.add(m, "-L3");
  for (size_t i = 0; i < m.size(); ++i) m[i] = i % 2;
  set.add(m, "odd heads");
  return set;
}

std::vector<float> predictions_by_hand(const SweepProblem& p, const at::Tensor& out) {
  std::vector<int64_t> ex;
  std::vector<int> slot;
  for (const auto& s : p.inputs.sequences) {
    ex.push_back(s.example);
    slot.push_back(s.slot);
  }
  return hs::sweep::example_predictions(p.head, p.inputs.n_examples, p.inputs.slots, ex, slot, out);
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  CATCH_REQUIRE(a.size() == b.size());
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(static_cast<double>(a[i]) - b[i]));
  return d;
}

std::vector<MaskResult> run_all(const SweepProblem& p, const MaskSet& set, const std::vector<int64_t>& todo) {
  std::vector<MaskResult> results;
  Progress progress(ProgressMode::None, static_cast<int64_t>(todo.size()),
                    hs::sweep::work_per_mask(p) * static_cast<double>(todo.size()));
  hs::sweep::run_naive(p, set, todo, [&](const MaskResult& r) { results.push_back(r); }, progress);
  return results;
}

}  // namespace

CATCH_TEST_CASE("run_naive matches score_sequences mask by mask, calling done in todo order",
                "[sweep][executor][model]") {
  HS_REQUIRE_GLUE(glue);
  HS_REQUIRE_MODEL(model_dir);
  const Fixture f = load(glue, model_dir);
  CATCH_REQUIRE(f.head.kind == hs::sweep::HeadKind::Similarity);
  const SweepProblem p = f.problem(8192);
  CATCH_REQUIRE(p.inputs.n_examples == kExamples);
  const MaskSet set = four_masks(f.model.n_layers(), f.model.n_heads());
  CATCH_REQUIRE(set.size() == 4);

  const std::vector<int64_t> todo = {2, 0, 3, 1};
  std::vector<MaskResult> results;
  Progress progress(ProgressMode::None, 4, hs::sweep::work_per_mask(p) * 4);
  hs::sweep::run_naive(p, set, todo, [&](const MaskResult& r) {
    // done runs before the mask is counted as finished, so a writer never lags the display.
    CATCH_CHECK_THAT(progress.status_line(), StartsWith(fmt::format("masks {}/4", results.size())));
    results.push_back(r);
  }, progress);

  CATCH_REQUIRE(results.size() == todo.size());
  for (size_t i = 0; i < todo.size(); ++i) {
    const MaskResult& r = results[i];
    CATCH_INFO("mask " << r.mask << " " << set.names()[r.mask]);
    CATCH_CHECK(r.mask == todo[i]);
    CATCH_REQUIRE(static_cast<int64_t>(r.predictions.size()) == kExamples);
    const at::Tensor out = hs::sweep::score_sequences(p, hs::sweep::mask_gates(set, r.mask), nullptr);
    CATCH_REQUIRE(out.size(0) == 2 * kExamples);
    CATCH_REQUIRE(out.size(1) == 384);
    const std::vector<float> by_hand = predictions_by_hand(p, out);
    // Same batches, same kernels: the executor adds nothing of its own to the numbers.
    CATCH_CHECK(max_abs_diff(r.predictions, by_hand) == 0.0);
    const std::vector<double> pred(r.predictions.begin(), r.predictions.end());
    CATCH_CHECK(r.scores == hs::metrics::score(p.metrics, pred, p.gold));
    CATCH_CHECK(r.scores.size() == 2);
    CATCH_CHECK(r.scores.count("pearson") == 1);
    CATCH_CHECK(r.scores.count("spearman") == 1);
    for (float v : r.predictions) {
      CATCH_REQUIRE(std::isfinite(v));
      CATCH_REQUIRE(v <= 1.0f + 1e-6f);
      CATCH_REQUIRE(v >= -1.0f - 1e-6f);
    }
  }
  // The gates reach the model: each ablation moves some prediction well beyond float noise.
  const std::vector<float>& base = results[1].predictions;
  CATCH_REQUIRE(results[1].mask == 0);
  for (size_t i : {0, 2, 3}) {
    CATCH_INFO("mask " << results[i].mask);
    CATCH_CHECK(max_abs_diff(results[i].predictions, base) > 1e-3);
  }
  // The baseline correlates with the gold scores as all-MiniLM-L6-v2 does on STS-B (~0.87 Spearman
  // on the full split); 24 pairs are noisy, so only a clearly positive correlation is asked for.
  CATCH_CHECK(results[1].scores.at("spearman") > 0.5);

  // Progress counted work, not masks: one pass per mask of padded tokens.
  CATCH_CHECK_THAT(progress.status_line(), StartsWith("masks 4/4  100.0%"));
  double padded = 0;
  for (const auto& b : p.batches) padded += static_cast<double>(b.padded_tokens);
  CATCH_CHECK(hs::sweep::work_per_mask(p) == padded);
}

CATCH_TEST_CASE("results do not depend on token_budget or batch order", "[sweep][executor][model]") {
  HS_REQUIRE_GLUE(glue);
  HS_REQUIRE_MODEL(model_dir);
  const Fixture f = load(glue, model_dir);
  const MaskSet set = four_masks(f.model.n_layers(), f.model.n_heads());
  const std::vector<int64_t> todo = {0, 1, 2, 3};

  const SweepProblem big = f.problem(8192);
  const SweepProblem small = f.problem(256);
  // Otherwise the comparison is between identical batchings.
  CATCH_REQUIRE(big.batches.size() == 1);
  CATCH_REQUIRE(small.batches.size() > 2);
  double pad_big = 0, pad_small = 0;
  for (const auto& b : big.batches) pad_big += static_cast<double>(b.padded_tokens - b.real_tokens);
  for (const auto& b : small.batches) pad_small += static_cast<double>(b.padded_tokens - b.real_tokens);
  CATCH_INFO("padding tokens: budget 8192 " << pad_big << ", budget 256 " << pad_small);
  CATCH_REQUIRE(pad_big > pad_small);

  const auto rb = run_all(big, set, todo);
  const auto rs = run_all(small, set, todo);
  CATCH_REQUIRE(rb.size() == 4);
  CATCH_REQUIRE(rs.size() == 4);
  for (size_t i = 0; i < todo.size(); ++i) {
    CATCH_INFO("mask " << set.names()[todo[i]]);
    const double d = max_abs_diff(rb[i].predictions, rs[i].predictions);
    CATCH_INFO("max |prediction difference| " << d);
    CATCH_CHECK(d <= 1e-5);
    // The embeddings themselves, not only their cosines.
    const at::Tensor gates = hs::sweep::mask_gates(set, todo[i]);
    const at::Tensor eb = hs::sweep::score_sequences(big, gates, nullptr);
    const at::Tensor es = hs::sweep::score_sequences(small, gates, nullptr);
    const double de = (eb - es).abs().max().item<double>();
    CATCH_INFO("max |embedding difference| " << de);
    CATCH_CHECK(de <= 1e-5);
  }

  // The same batches in reverse order: each row lands in its own place, bit for bit.
  SweepProblem reversed = f.problem(256);
  std::reverse(reversed.batches.begin(), reversed.batches.end());
  CATCH_REQUIRE(reversed.batches.front().sequence_index != small.batches.front().sequence_index);
  const auto rr = run_all(reversed, set, todo);
  for (size_t i = 0; i < todo.size(); ++i) {
    CATCH_CHECK(rr[i].predictions == rs[i].predictions);
    const at::Tensor gates = hs::sweep::mask_gates(set, todo[i]);
    CATCH_CHECK(at::equal(hs::sweep::score_sequences(reversed, gates, nullptr),
                          hs::sweep::score_sequences(small, gates, nullptr)));
  }
}

CATCH_TEST_CASE("every head off still gives finite outputs", "[sweep][executor][model]") {
  HS_REQUIRE_GLUE(glue);
  HS_REQUIRE_MODEL(model_dir);
  const Fixture f = load(glue, model_dir);
  const int L = f.model.n_layers(), H = f.model.n_heads();
  MaskSet set = hs::masks::make_masks("baseline", L, H);
  CATCH_REQUIRE(set.add(std::vector<uint8_t>(static_cast<size_t>(L) * H, 0), "all off") == 1);
  CATCH_REQUIRE(set.heads_kept(1) == 0);
  const SweepProblem p = f.problem(256);
  const auto r = run_all(p, set, {0, 1});
  CATCH_REQUIRE(r.size() == 2);
  for (float v : r[1].predictions) CATCH_REQUIRE(std::isfinite(v));
  const at::Tensor out = hs::sweep::score_sequences(p, hs::sweep::mask_gates(set, 1), nullptr);
  CATCH_CHECK(at::isfinite(out).all().item<bool>());
  // Without attention each token's state ignores its neighbours; the model is then far from itself.
  CATCH_CHECK(max_abs_diff(r[1].predictions, r[0].predictions) > 1e-2);
  for (const auto& [name, v] : r[1].scores) {
    CATCH_INFO(name);
    CATCH_CHECK(std::isfinite(v));
  }
}
