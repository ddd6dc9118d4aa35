// The trie executor against the naive one on the real checkpoint and real GLUE dev data: outputs
// (cosines, logits) within 1e-4 max-abs, identical predictions except near-ties of the naive run's
// top two logits (counted and reported), metrics within 1e-6. Mask sets: single-head, leave-one-in,
// random sparsities 0.1-0.9 and 1,000 random masks.
#include <cstdint>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <catch2/catch.hpp>

#include "classifier_checkpoint.h"
#include "data/glue_tasks.h"
#include "masks/mask_set.h"
#include "masks/strategies.h"
#include "model/bert.h"
#include "model/model_dir.h"
#include "model/threads.h"
#include "sweep/executor.h"
#include "sweep/head.h"
#include "sweep/inputs.h"
#include "sweep/trie.h"
#include "sweep_runs.h"
#include "test_env.h"
#include "text/tokenizer.h"

using hs::masks::MaskSet;
using hs::sweep::MaskResult;
using hs::sweep::Progress;
using hs::sweep::ProgressMode;
using hs::sweep::SweepProblem;
using hs::test::run_every_mask;

namespace {

struct Setup {
  hs::model::ModelDir dir;
  hs::model::BertModel model;
  hs::data::Dataset data;
  SweepProblem problem;
};

std::unique_ptr<Setup> setup(const std::string& model_dir, const std::string& glue, const std::string& task,
                             int64_t limit) {
  hs::model::ModelDir dir = hs::model::inspect_model_dir(model_dir);
  auto s = std::make_unique<Setup>(Setup{dir, hs::model::BertModel::load(dir),
                                         hs::data::load_split(hs::data::find_task(task), glue, "dev", limit), {}});
  const hs::text::Tokenizer tok = hs::text::Tokenizer::from_model_dir(model_dir);
  SweepProblem& p = s->problem;
  p.model = &s->model;
  p.head = hs::sweep::resolve_head(dir, *s->data.task, "auto", "auto");
  p.inputs = hs::sweep::build_inputs(s->data, tok, p.head, 128);
  p.batches = hs::sweep::make_batches(p.inputs, 2048, tok.pad_id());
  p.metrics = s->data.task->metrics;
  for (const auto& ex : s->data.examples) p.gold.push_back(ex.label);
  return s;
}

// Leave-one-in (Michel et al. 2019, Table 3): only head h of layer l kept there, other layers full.
MaskSet leave_one_in(int L, int H) {
  MaskSet set(L, H);
  std::vector<uint8_t> m(L * H, 1);
  set.add(m, "baseline");
  for (int l = 0; l < L; ++l) {
    for (int h = 0; h < H; ++h) {
      std::vector<uint8_t> k = m;
      for (int j = 0; j < H; ++j) k[l * H + j] = j == h;
      set.add(k, "L" + std::to_string(l) + ".H" + std::to_string(h) + "-only");
    }
  }
  return set;
}

MaskSet random_masks(int L, int H, const std::vector<double>& sparsities, int per_sparsity, uint64_t seed) {
  MaskSet set(L, H);
  set.add(std::vector<uint8_t>(L * H, 1), "baseline");
  std::mt19937_64 rng(seed);
  for (double s : sparsities) {
    const int off = static_cast<int>(std::lround(s * L * H));
    for (int i = 0; i < per_sparsity; ++i) {
      std::vector<uint8_t> m(L * H, 1);
      std::fill(m.begin(), m.begin() + off, 0);
      std::shuffle(m.begin(), m.end(), rng);
      set.add(m, "random");
    }
  }
  return set;
}

// The single-head masks followed by random ones (without the random set's own baseline).
MaskSet single_head_and_random(int L, int H, const std::vector<double>& sparsities, int per_sparsity, uint64_t seed) {
  MaskSet set = hs::masks::make_masks("single-head", L, H);
  const MaskSet random = random_masks(L, H, sparsities, per_sparsity, seed);
  for (int64_t n = 1; n < random.size(); ++n) set.add(random.mask(n), "random");
  return set;
}

// run_trie over every mask with the given options.
std::vector<MaskResult> run_trie_with(const SweepProblem& p, const MaskSet& set, const hs::sweep::TrieOptions& opts,
                                      hs::sweep::TrieStats* stats) {
  std::vector<int64_t> todo(set.size());
  for (int64_t n = 0; n < set.size(); ++n) todo[n] = n;
  std::vector<MaskResult> results(set.size());
  Progress progress(ProgressMode::None, set.size(), 1.0);
  hs::sweep::run_trie(p, set, todo, [&](const MaskResult& r) { results[r.mask] = r; }, progress, opts, stats);
  return results;
}

struct Agreement {
  double max_output_diff = 0;
  double max_metric_diff = 0;
  std::string worst_metric;  // "metric of mask n (kept heads)" where the metric differs most
  int64_t prediction_mismatches = 0;
  int64_t near_ties = 0;
};

// Compares trie results with the naive reference; a differing class prediction is allowed only where
// the naive run's top two logits are within 1e-5.
Agreement compare(const SweepProblem& p, const std::vector<MaskResult>& naive, const std::vector<MaskResult>& trie) {
  Agreement a;
  const bool classification = p.head.kind == hs::sweep::HeadKind::Classification;
  for (size_t n = 0; n < naive.size(); ++n) {
    const MaskResult& x = naive[n];
    const MaskResult& y = trie[n];
    CATCH_REQUIRE(y.outputs.defined());
    a.max_output_diff = std::max(a.max_output_diff, (x.outputs - y.outputs).abs().max().item<double>());
    for (const auto& [metric, v] : x.scores) {
      const double d = std::abs(v - y.scores.at(metric));
      if (d > a.max_metric_diff) {
        a.max_metric_diff = d;
        a.worst_metric = metric + " = " + std::to_string(v);
      }
    }
    for (size_t i = 0; i < x.predictions.size(); ++i) {
      if (!classification) {
        a.max_output_diff = std::max(a.max_output_diff, static_cast<double>(std::abs(x.predictions[i] - y.predictions[i])));
        continue;
      }
      if (x.predictions[i] == y.predictions[i]) continue;
      // Example i's logits in the naive run (one sequence per example for classification).
      int64_t s = 0;
      while (p.inputs.sequences[s].example != static_cast<int64_t>(i)) ++s;
      const at::Tensor top2 = std::get<0>(x.outputs[s].topk(2));
      if ((top2[0] - top2[1]).item<double>() <= 1e-5) {
        ++a.near_ties;
      } else {
        ++a.prediction_mismatches;
      }
    }
  }
  return a;
}

void check_agreement(const SweepProblem& p, const MaskSet& set, const std::string& what) {
  const std::vector<MaskResult> naive = run_every_mask("naive", p, set);
  const std::vector<MaskResult> trie = run_every_mask("trie", p, set);
  const Agreement a = compare(p, naive, trie);
  CATCH_WARN(what << ": " << set.size() << " masks, max |output diff| " << a.max_output_diff << ", max |metric diff| "
                  << a.max_metric_diff << " (" << a.worst_metric << "), near-tie prediction changes " << a.near_ties);
  CATCH_CHECK(a.max_output_diff <= 1e-4);
  CATCH_CHECK(a.max_metric_diff <= 1e-6);
  CATCH_CHECK(a.prediction_mismatches == 0);
}

}  // namespace

CATCH_TEST_CASE("trie executor equals the naive one on STS-B (similarity head)", "[sweep][trie]") {
  HS_REQUIRE_MODEL(model);
  HS_REQUIRE_GLUE(glue);
  const auto s = setup(model, glue, "stsb", 24);
  const int L = s->model.n_layers(), H = s->model.n_heads();
  check_agreement(s->problem, hs::masks::make_masks("single-head", L, H), "stsb single-head");
  check_agreement(s->problem, hs::masks::make_masks("layer", L, H), "stsb layer");
  check_agreement(s->problem, leave_one_in(L, H), "stsb leave-one-in");
  check_agreement(s->problem, random_masks(L, H, {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}, 8, 7),
                  "stsb random sparsities 0.1-0.9");
  // All heads off in some layer, and every head off: the attention output is the bias alone.
  MaskSet edge(L, H);
  edge.add(std::vector<uint8_t>(L * H, 0), "all-off");
  std::vector<uint8_t> one_layer(L * H, 1);
  std::fill(one_layer.begin() + 2 * H, one_layer.begin() + 3 * H, 0);
  edge.add(one_layer, "-L2");
  check_agreement(s->problem, edge, "stsb all heads off");
}

CATCH_TEST_CASE("trie executor equals the naive one on 1000 random masks", "[sweep][trie]") {
  HS_REQUIRE_MODEL(model);
  HS_REQUIRE_GLUE(glue);
  const auto s = setup(model, glue, "stsb", 16);
  const int L = s->model.n_layers(), H = s->model.n_heads();
  const MaskSet set = random_masks(L, H, {0.1, 0.3, 0.5, 0.7, 0.9}, 200, 11);
  CATCH_REQUIRE(set.size() == 1001);
  check_agreement(s->problem, set, "stsb 1000 random masks");
}

CATCH_TEST_CASE("trie executor equals the naive one on RTE (classification head)", "[sweep][trie]") {
  HS_REQUIRE_MODEL(model);
  HS_REQUIRE_GLUE(glue);
  const std::string dir = (std::filesystem::temp_directory_path() / "headsweep-test-trie-rte").string();
  hs::test::write_classifier_model_dir(dir, model, hs::test::golden_dir(), "rte");
  const auto s = setup(dir, glue, "rte", 16);
  const int L = s->model.n_layers(), H = s->model.n_heads();
  CATCH_REQUIRE(s->problem.head.kind == hs::sweep::HeadKind::Classification);
  check_agreement(s->problem, hs::masks::make_masks("single-head", L, H), "rte single-head");
  check_agreement(s->problem, leave_one_in(L, H), "rte leave-one-in");
  check_agreement(s->problem, random_masks(L, H, {0.1, 0.3, 0.5, 0.7, 0.9}, 10, 3), "rte random");
  std::filesystem::remove_all(dir);
}

CATCH_TEST_CASE("parallel workers give the single-thread results", "[sweep][trie][workers]") {
  HS_REQUIRE_MODEL(model);
  HS_REQUIRE_GLUE(glue);
  const auto s = setup(model, glue, "stsb", 40);
  const int L = s->model.n_layers(), H = s->model.n_heads();
  // Small batches, so the 3 workers really share the data.
  hs::sweep::SweepProblem& p = s->problem;
  const hs::text::Tokenizer tok = hs::text::Tokenizer::from_model_dir(model);
  p.batches = hs::sweep::make_batches(p.inputs, 96, tok.pad_id());
  CATCH_REQUIRE(p.batches.size() >= 8);
  const MaskSet set = single_head_and_random(L, H, {0.3, 0.6}, 10, 5);
  const int saved = hs::model::compute_threads();
  hs::model::set_compute_threads(1);
  const std::vector<MaskResult> serial = run_every_mask("naive", p, set);
  hs::model::set_compute_threads(3);
  const std::vector<MaskResult> naive = run_every_mask("naive", p, set);
  const std::vector<MaskResult> trie = run_every_mask("trie", p, set);
  CATCH_CHECK(hs::model::compute_threads() == 3);  // restored after the workers
  hs::model::set_compute_threads(saved);
  // Each batch runs the same ops whichever worker takes it, on single-threaded GEMMs as the serial run.
  for (int64_t n = 0; n < set.size(); ++n) {
    CATCH_CHECK(at::equal(serial[n].outputs, naive[n].outputs));
    CATCH_CHECK(serial[n].scores == naive[n].scores);
  }
  const Agreement a = compare(p, serial, trie);
  CATCH_CHECK(a.max_output_diff <= 1e-4);
  CATCH_CHECK(a.max_metric_diff <= 1e-6);
}

CATCH_TEST_CASE("stacked chain continuations equal unstacked ones, at every stack size", "[sweep][trie]") {
  HS_REQUIRE_MODEL(model);
  HS_REQUIRE_GLUE(glue);
  const auto s = setup(model, glue, "stsb", 12);
  const SweepProblem& p = s->problem;
  const int L = s->model.n_layers(), H = s->model.n_heads();
  // Single-head masks are chains below their branch layer; random ones at 50% also skip heads that
  // every stacked mask gates off.
  const MaskSet set = single_head_and_random(L, H, {0.5}, 12, 9);
  std::vector<int64_t> todo(set.size());
  for (int64_t n = 0; n < set.size(); ++n) todo[n] = n;
  auto run_with = [&](int64_t stack_tokens, hs::sweep::TrieStats* stats) {
    hs::sweep::TrieOptions opts;
    opts.stack_tokens = stack_tokens;
    return run_trie_with(p, set, opts, stats);
  };
  hs::sweep::TrieStats alone_stats, three_stats, all_stats;
  const std::vector<MaskResult> alone = run_with(1, &alone_stats);  // every chain on its own
  const std::vector<MaskResult> three = run_with(3 * p.batches.front().padded_tokens, &three_stats);
  const std::vector<MaskResult> all = run_with(int64_t{1} << 40, &all_stats);
  const std::vector<MaskResult> naive = run_every_mask("naive", p, set);
  for (const auto* r : {&alone, &three, &all}) {
    const Agreement a = compare(p, naive, *r);
    CATCH_CHECK(a.max_output_diff <= 1e-4);
    CATCH_CHECK(a.max_metric_diff <= 1e-6);
  }
  // Stacking changes how rows are grouped, not how many layer passes run.
  CATCH_CHECK(alone_stats.layer_passes == all_stats.layer_passes);
  CATCH_CHECK(three_stats.layer_passes == all_stats.layer_passes);
  CATCH_CHECK(all_stats.layer_passes ==
              hs::sweep::trie_layer_passes(set, todo, hs::sweep::TrieOptions{}.group_masks) *
                  static_cast<int64_t>(p.inputs.sequences.size()));
}

CATCH_TEST_CASE("trie shares work: layer passes of a single-head sweep", "[sweep][trie]") {
  // Masks removing a head of layer l share layers 0..l-1 with the baseline. For L = 6, H = 12:
  // branch nodes pass 13 children per layer on the baseline path (6 x 13 = 78), and the 12 masks
  // branching at layer l continue alone through layers l+1..5 (12 x (5+4+3+2+1+0) = 180): 258 passes
  // instead of the naive 73 x 6 = 438.
  const MaskSet set = hs::masks::make_masks("single-head", 6, 12);
  std::vector<int64_t> todo(set.size());
  for (int64_t n = 0; n < set.size(); ++n) todo[n] = n;
  CATCH_CHECK(hs::sweep::trie_layer_passes(set, todo) == 258);
  const MaskSet layer = hs::masks::make_masks("layer", 6, 12);
  std::vector<int64_t> all(layer.size());
  for (int64_t n = 0; n < layer.size(); ++n) all[n] = n;
  // 6 branch nodes with 2 children each (12), plus chains 5+4+3+2+1+0 = 15 for the layer-off masks.
  CATCH_CHECK(hs::sweep::trie_layer_passes(layer, all) == 27);
}

CATCH_TEST_CASE("the GPU's mixings (per head, or by children count) equal the naive executor on the CPU", "[sweep][trie]") {
  using Mixing = hs::sweep::TrieOptions::Mixing;
  HS_REQUIRE_MODEL(model);
  HS_REQUIRE_GLUE(glue);
  const auto s = setup(model, glue, "stsb", 16);
  const SweepProblem& p = s->problem;
  const int L = s->model.n_layers(), H = s->model.n_heads();
  // Single-head masks give nodes of 13 children (per-head mixing by children count) and chains
  // (lone children); the masks below share layer 0 (L0.H0 off) and split at layer 1 into 3
  // children, or share layers 0-1 (L0.H1 and L1.H1 off) and split at layer 2 into 2 children
  // (per-child GEMMs by children count).
  MaskSet set = single_head_and_random(L, H, {0.2, 0.5, 0.9}, 8, 13);
  set.add(std::vector<uint8_t>(L * H, 0), "all-off");  // no active head: the mix is the bias alone
  auto with_off = [&](std::vector<std::pair<int, int>> off) {
    std::vector<uint8_t> m(L * H, 1);
    for (auto [l, h] : off) m[l * H + h] = 0;
    return m;
  };
  set.add(with_off({{0, 0}, {1, 0}}), "split-3");
  std::vector<uint8_t> layer1_off = with_off({{0, 0}});
  std::fill(layer1_off.begin() + H, layer1_off.begin() + 2 * H, uint8_t{0});
  set.add(layer1_off, "split-3");
  set.add(with_off({{0, 0}, {1, 0}, {3, 2}}), "split-3");
  set.add(with_off({{0, 1}, {1, 1}, {2, 4}}), "split-2");
  set.add(with_off({{0, 1}, {1, 1}, {4, 4}}), "split-2");
  const Mixing mixing = GENERATE(Mixing::PerHead, Mixing::ByChildren);
  hs::sweep::TrieOptions opts;
  opts.mixing = mixing;
  // Every chain layer a lone child, as with the GPU's large batches.
  if (mixing == Mixing::ByChildren) opts.stack_tokens = 1;
  const Agreement a = compare(p, run_every_mask("naive", p, set), run_trie_with(p, set, opts, nullptr));
  CATCH_WARN((mixing == Mixing::PerHead ? "per-head" : "by children")
             << " mixing: max |output diff| " << a.max_output_diff << ", max |metric diff| " << a.max_metric_diff
             << " (" << a.worst_metric << ")");
  CATCH_CHECK(a.max_output_diff <= 1e-4);
  // A different summation order than the naive GEMM: metrics move by float rounding only.
  CATCH_CHECK(a.max_metric_diff <= 1e-5);
}

CATCH_TEST_CASE("a node's children mixed a chunk at a time equal them mixed all at once", "[sweep][trie]") {
  using Mixing = hs::sweep::TrieOptions::Mixing;
  HS_REQUIRE_MODEL(model);
  HS_REQUIRE_GLUE(glue);
  const auto s = setup(model, glue, "stsb", 12);
  const SweepProblem& p = s->problem;
  const int L = s->model.n_layers(), H = s->model.n_heads();
  // Random masks at 50% differ in nearly every layer: the root has one child per mask, and so do
  // most nodes below it; single-head masks add nodes of 13 children and chains.
  const MaskSet set = single_head_and_random(L, H, {0.5}, 20, 21);
  const Mixing mixing = GENERATE(Mixing::PerChild, Mixing::PerHead);
  auto run_with = [&](int64_t min_mix_children) {
    hs::sweep::TrieOptions opts;
    opts.mixing = mixing;
    opts.stack_tokens = 1;  // chunks of exactly min_mix_children
    opts.min_mix_children = min_mix_children;
    return run_trie_with(p, set, opts, nullptr);
  };
  const std::vector<MaskResult> all = run_with(int64_t{1} << 20);
  const std::vector<MaskResult> naive = run_every_mask("naive", p, set);
  for (int64_t chunk : {1, 3, 8}) {
    CATCH_CAPTURE(chunk);
    const std::vector<MaskResult> chunked = run_with(chunk);
    if (mixing == Mixing::PerChild) {
      // Each child's mix is its own GEMM: the same ops whatever the chunk.
      for (int64_t n = 0; n < set.size(); ++n) {
        CATCH_CHECK(at::equal(chunked[n].outputs, all[n].outputs));
        CATCH_CHECK(chunked[n].scores == all[n].scores);
      }
    }
    // Per head, the CPU mixes a chunk with one matmul, whose rounding may depend on its rows.
    const Agreement a = compare(p, naive, chunked);
    CATCH_CHECK(a.max_output_diff <= 1e-4);
    CATCH_CHECK(a.max_metric_diff <= 1e-5);
  }
}
