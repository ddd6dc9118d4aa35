// Token sequences and token-budget batching on the real STS-B dev split through the real tokenizer.
// A batch that drops, repeats or mis-pads a sequence changes predictions silently, so every row of
// every batch is checked against the sequence it claims to hold.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <catch2/catch.hpp>

#include "data/glue_tasks.h"
#include "sweep/head.h"
#include "sweep/inputs.h"
#include "test_env.h"
#include "text/tokenizer.h"

using hs::sweep::Batch;
using hs::sweep::HeadKind;
using hs::sweep::HeadSpec;
using hs::sweep::ScoringInputs;

namespace {

HeadSpec head_of(HeadKind kind) {
  HeadSpec h;
  h.kind = kind;
  return h;
}

// The fewest batches any cut of the length-sorted order can have (filling each batch until the
// budget runs out), and the least padding among cuts with that many, by plain dynamic programming
// over every start of the last batch: slow, but too simple to share a bug with make_batches.
std::pair<int64_t, int64_t> reference_cut(const ScoringInputs& in, int64_t budget) {
  std::vector<int64_t> len;
  for (const auto& s : in.sequences) len.push_back(static_cast<int64_t>(s.ids.size()));
  std::sort(len.rbegin(), len.rend());
  const int64_t S = static_cast<int64_t>(len.size());
  int64_t fewest = 0;
  for (int64_t j = 0; j < S; ++fewest) j += std::max<int64_t>(1, budget / len[j]);
  const int64_t kInf = INT64_MAX / 4;
  std::vector<std::pair<int64_t, int64_t>> best(S + 1, {kInf, kInf});  // (batches, padded)
  best[0] = {0, 0};
  for (int64_t j = 0; j < S; ++j) {
    const int64_t rows = std::max<int64_t>(1, budget / len[j]);
    for (int64_t i = j + 1; i <= std::min(S, j + rows); ++i) {
      best[i] = std::min(best[i], {best[j].first + 1, best[j].second + (i - j) * len[j]});
    }
  }
  CATCH_REQUIRE(best[S].first == fewest);
  return {fewest, best[S].second};
}

// Structural checks that hold for any inputs and budget.
void check_batches(const ScoringInputs& in, const std::vector<Batch>& batches, int64_t budget, int32_t pad_id) {
  const int64_t S = static_cast<int64_t>(in.sequences.size());
  std::vector<int> times_seen(S, 0);
  int64_t real_total = 0;
  size_t prev_len = SIZE_MAX;
  for (size_t k = 0; k < batches.size(); ++k) {
    const Batch& b = batches[k];
    const int64_t B = static_cast<int64_t>(b.sequence_index.size());
    CATCH_INFO("batch " << k << " of " << batches.size() << ", budget " << budget);
    CATCH_REQUIRE(B > 0);
    const at::Tensor& ids = b.input.input_ids;
    CATCH_REQUIRE(ids.dim() == 2);
    CATCH_REQUIRE(ids.size(0) == B);
    CATCH_REQUIRE(ids.scalar_type() == at::kLong);
    CATCH_REQUIRE(b.input.token_type_ids.sizes() == ids.sizes());
    CATCH_REQUIRE(b.input.attention_mask.sizes() == ids.sizes());
    const int64_t T = ids.size(1);
    CATCH_CHECK(b.padded_tokens == B * T);
    if (B > 1) CATCH_CHECK(B * T <= budget);

    auto ia = ids.accessor<int64_t, 2>();
    auto ta = b.input.token_type_ids.accessor<int64_t, 2>();
    auto ma = b.input.attention_mask.accessor<int64_t, 2>();
    int64_t real = 0;
    size_t longest = 0;
    for (int64_t r = 0; r < B; ++r) {
      const int64_t s = b.sequence_index[r];
      CATCH_REQUIRE(s >= 0);
      CATCH_REQUIRE(s < S);
      ++times_seen[s];
      const auto& seq = in.sequences[s];
      const size_t len = seq.ids.size();
      // Longest first, within and across batches.
      CATCH_CHECK(len <= prev_len);
      prev_len = len;
      longest = std::max(longest, len);
      real += static_cast<int64_t>(len);
      for (int64_t t = 0; t < T; ++t) {
        if (t < static_cast<int64_t>(len)) {
          if (ia[r][t] != seq.ids[t] || ta[r][t] != seq.types[t] || ma[r][t] != 1) {
            CATCH_FAIL("sequence " << s << " token " << t << " copied wrongly");
          }
        } else if (ia[r][t] != pad_id || ta[r][t] != 0 || ma[r][t] != 0) {
          CATCH_FAIL("sequence " << s << " padding at " << t << ": id " << ia[r][t] << " type " << ta[r][t]
                                 << " mask " << ma[r][t]);
        }
      }
    }
    // No wasted columns: T is the longest row.
    CATCH_CHECK(T == static_cast<int64_t>(longest));
    CATCH_CHECK(b.real_tokens == real);
    real_total += real;
  }
  CATCH_CHECK(real_total == in.n_tokens);
  // No more forwards than filling each batch to the budget, and no more padding than any cut with
  // that many batches.
  const auto [fewest, least_padding] = reference_cut(in, budget);
  int64_t padded_total = 0;
  for (const Batch& b : batches) padded_total += b.padded_tokens;
  CATCH_CHECK(static_cast<int64_t>(batches.size()) == fewest);
  CATCH_CHECK(padded_total == least_padding);
  for (int64_t s = 0; s < S; ++s) {
    if (times_seen[s] != 1) CATCH_FAIL("sequence " << s << " is in " << times_seen[s] << " batches");
  }
}

struct Stsb {
  hs::data::Dataset dev;
  hs::text::Tokenizer tok;
};

Stsb load_stsb(const std::string& glue, const std::string& model_dir) {
  return Stsb{hs::data::load_split(hs::data::find_task("stsb"), glue, "dev"),
              hs::text::Tokenizer::from_model_dir(model_dir)};
}

}  // namespace

CATCH_TEST_CASE("build_inputs: similarity head encodes each sentence alone, two slots per example",
                "[sweep][batching]") {
  HS_REQUIRE_GLUE(glue);
  HS_REQUIRE_MODEL(model_dir);
  const Stsb d = load_stsb(glue, model_dir);
  const int64_t E = static_cast<int64_t>(d.dev.examples.size());
  CATCH_REQUIRE(E == 1500);
  const ScoringInputs in = build_inputs(d.dev, d.tok, head_of(HeadKind::Similarity), 128);
  CATCH_CHECK(in.n_examples == E);
  CATCH_CHECK(in.slots == 2);
  CATCH_REQUIRE(static_cast<int64_t>(in.sequences.size()) == 2 * E);
  int64_t tokens = 0;
  for (int64_t i = 0; i < E; ++i) {
    const auto& a = in.sequences[2 * i];
    const auto& b = in.sequences[2 * i + 1];
    CATCH_REQUIRE(a.example == i);
    CATCH_REQUIRE(a.slot == 0);
    CATCH_REQUIRE(b.example == i);
    CATCH_REQUIRE(b.slot == 1);
    const auto ea = d.tok.encode(d.dev.examples[i].text_a, 128);
    const auto eb = d.tok.encode(d.dev.examples[i].text_b, 128);
    CATCH_REQUIRE(a.ids == ea.input_ids);
    CATCH_REQUIRE(b.ids == eb.input_ids);
    // Single sentences are all segment 0.
    CATCH_REQUIRE(std::all_of(a.types.begin(), a.types.end(), [](int32_t t) { return t == 0; }));
    CATCH_REQUIRE(std::all_of(b.types.begin(), b.types.end(), [](int32_t t) { return t == 0; }));
    tokens += static_cast<int64_t>(a.ids.size() + b.ids.size());
  }
  CATCH_CHECK(in.n_tokens == tokens);
}

CATCH_TEST_CASE("build_inputs: pair heads read one [CLS] a [SEP] b [SEP] sequence per example",
                "[sweep][batching]") {
  HS_REQUIRE_GLUE(glue);
  HS_REQUIRE_MODEL(model_dir);
  const Stsb d = load_stsb(glue, model_dir);
  const int64_t E = static_cast<int64_t>(d.dev.examples.size());
  const ScoringInputs in = build_inputs(d.dev, d.tok, head_of(HeadKind::Regression), 128);
  CATCH_CHECK(in.slots == 1);
  CATCH_REQUIRE(static_cast<int64_t>(in.sequences.size()) == E);
  for (int64_t i = 0; i < E; ++i) {
    const auto& s = in.sequences[i];
    CATCH_INFO("example " << i);
    CATCH_REQUIRE(s.example == i);
    CATCH_REQUIRE(s.slot == 0);
    CATCH_REQUIRE(s.ids == d.tok.encode_pair(d.dev.examples[i].text_a, d.dev.examples[i].text_b, 128).input_ids);
    // Segment 0 runs through the first [SEP], segment 1 from there to the final [SEP].
    const size_t T = s.ids.size();
    CATCH_REQUIRE(s.types.size() == T);
    CATCH_REQUIRE(s.ids.front() == d.tok.cls_id());
    CATCH_REQUIRE(s.ids.back() == d.tok.sep_id());
    const size_t first_sep = std::find(s.ids.begin(), s.ids.end(), d.tok.sep_id()) - s.ids.begin();
    CATCH_REQUIRE(first_sep + 1 < T);  // both sentences are non-empty in STS-B
    CATCH_REQUIRE(std::count(s.ids.begin(), s.ids.end(), d.tok.sep_id()) == 2);
    for (size_t t = 0; t < T; ++t) {
      if (s.types[t] != (t <= first_sep ? 0 : 1)) CATCH_FAIL("token " << t << " has type " << s.types[t]);
    }
  }
}

CATCH_TEST_CASE("build_inputs respects max_seq_len", "[sweep][batching]") {
  HS_REQUIRE_GLUE(glue);
  HS_REQUIRE_MODEL(model_dir);
  const Stsb d = load_stsb(glue, model_dir);
  const int max_len = 16;
  for (HeadKind kind : {HeadKind::Similarity, HeadKind::Regression}) {
    CATCH_SECTION(hs::sweep::head_kind_name(kind)) {
      const ScoringInputs in = build_inputs(d.dev, d.tok, head_of(kind), max_len);
      const ScoringInputs full = build_inputs(d.dev, d.tok, head_of(kind), 0);
      CATCH_REQUIRE(in.sequences.size() == full.sequences.size());
      int64_t truncated = 0;
      for (size_t s = 0; s < in.sequences.size(); ++s) {
        const auto& cut = in.sequences[s];
        const auto& whole = full.sequences[s];
        const size_t want = std::min<size_t>(whole.ids.size(), max_len);
        if (cut.ids.size() != want) CATCH_FAIL("sequence " << s << ": " << cut.ids.size() << " tokens, expected " << want);
        CATCH_REQUIRE(cut.types.size() == cut.ids.size());
        CATCH_REQUIRE(cut.ids.back() == d.tok.sep_id());
        if (whole.ids.size() > static_cast<size_t>(max_len)) ++truncated;
      }
      // Otherwise the bound was never exercised.
      CATCH_CHECK(truncated > 100);
      for (const Batch& b : hs::sweep::make_batches(in, 8192, d.tok.pad_id())) {
        CATCH_CHECK(b.input.input_ids.size(1) <= max_len);
      }
    }
  }
}

CATCH_TEST_CASE("make_batches: every sequence once, within budget, longest first, padded correctly",
                "[sweep][batching]") {
  HS_REQUIRE_GLUE(glue);
  HS_REQUIRE_MODEL(model_dir);
  const Stsb d = load_stsb(glue, model_dir);
  const int32_t pad = d.tok.pad_id();
  CATCH_REQUIRE(pad == 0);  // BERT's [PAD]; padding must not be mistaken for another token
  for (HeadKind kind : {HeadKind::Similarity, HeadKind::Regression}) {
    const ScoringInputs in = build_inputs(d.dev, d.tok, head_of(kind), 128);
    // 16 is below most sequence lengths, so it exercises over-budget single-row batches.
    for (int64_t budget : {16, 256, 1000, 8192, 1 << 20}) {
      CATCH_SECTION(std::string(hs::sweep::head_kind_name(kind)) + " budget " + std::to_string(budget)) {
        const std::vector<Batch> batches = hs::sweep::make_batches(in, budget, pad);
        check_batches(in, batches, budget, pad);
        if (budget == 16) {
          const auto over = std::count_if(batches.begin(), batches.end(), [](const Batch& b) {
            return b.padded_tokens > 16;
          });
          CATCH_CHECK(over > 0);
        }
        if (budget == (1 << 20)) CATCH_CHECK(batches.size() == 1);
      }
    }
  }
}

CATCH_TEST_CASE("make_batches keeps padding low on STS-B", "[sweep][batching]") {
  HS_REQUIRE_GLUE(glue);
  HS_REQUIRE_MODEL(model_dir);
  const Stsb d = load_stsb(glue, model_dir);
  for (HeadKind kind : {HeadKind::Similarity, HeadKind::Regression}) {
    CATCH_SECTION(hs::sweep::head_kind_name(kind)) {
      const ScoringInputs in = build_inputs(d.dev, d.tok, head_of(kind), 128);
      const std::vector<Batch> batches = hs::sweep::make_batches(in, 8192, d.tok.pad_id());
      int64_t real = 0, padded = 0;
      std::string shapes;
      for (const Batch& b : batches) {
        real += b.real_tokens;
        padded += b.padded_tokens;
        shapes += " " + std::to_string(b.input.input_ids.size(0)) + "x" + std::to_string(b.input.input_ids.size(1)) +
                  "(" + std::to_string(b.real_tokens) + ")";
      }
      const double ratio = static_cast<double>(padded) / static_cast<double>(real);
      CATCH_WARN(hs::sweep::head_kind_name(kind) << ": " << batches.size() << " batches, " << real << " real tokens, "
                                                 << padded << " padded, ratio " << ratio << "; B x T (real):" << shapes);
      CATCH_CHECK(ratio >= 1.0);
      // Measured: 1.1446 for the similarity head's 3000 single sentences, 1.1299 for the 1500 pairs
      // (7 batches each). The bound is the target of < 1.15: fixed data and vocabulary make the
      // ratio deterministic, so the 0.5% margin only has to absorb tokenizer fixes, while filling
      // each batch to the budget (1.1624 and 1.1560, same 7 batches) fails it. Going lower takes
      // more batches: 8 give ~1.10.
      CATCH_CHECK(ratio < 1.15);
    }
  }
}

CATCH_TEST_CASE("make_batches: fewest batches, then the cut with least padding", "[sweep][batching]") {
  // Lengths 10, 5, 5, 5, 5 under budget 20: filling the first batch gives 2x10 + 3x5 (35 padded
  // tokens for 30 real); the same two batches cut as 1x10 + 4x5 pad nothing.
  ScoringInputs in;
  in.slots = 1;
  for (int64_t i = 0; i < 5; ++i) {
    const size_t T = i == 0 ? 10 : 5;
    std::vector<int32_t> ids(T, static_cast<int32_t>(1000 + i));
    ids.front() = 101;
    ids.back() = 102;
    in.sequences.push_back({ids, std::vector<int32_t>(T, 0), i, 0});
    in.n_tokens += static_cast<int64_t>(T);
  }
  in.n_examples = 5;
  const std::vector<Batch> batches = hs::sweep::make_batches(in, 20, 0);
  CATCH_REQUIRE(batches.size() == 2);
  CATCH_CHECK(batches[0].sequence_index == std::vector<int64_t>{0});
  // Equal lengths keep their input order.
  CATCH_CHECK(batches[1].sequence_index == std::vector<int64_t>{1, 2, 3, 4});
  CATCH_CHECK(batches[0].padded_tokens == 10);
  CATCH_CHECK(batches[1].padded_tokens == 20);
  check_batches(in, batches, 20, 0);

  // Budget 19 fits no 4x5 batch: three batches are needed, and 1x10 + 3x5 + 1x5 pads nothing.
  const std::vector<Batch> three = hs::sweep::make_batches(in, 19, 0);
  CATCH_CHECK(three.size() == 3);
  check_batches(in, three, 19, 0);

  // A budget below every length: one sequence per batch, none dropped.
  const std::vector<Batch> alone = hs::sweep::make_batches(in, 4, 0);
  CATCH_CHECK(alone.size() == 5);
  check_batches(in, alone, 4, 0);

  CATCH_CHECK(hs::sweep::make_batches(ScoringInputs{}, 8192, 0).empty());
}

CATCH_TEST_CASE("worker_token_budget: about kBatchesPerWorker batches per worker, within the budget",
                "[sweep][batching]") {
  using hs::sweep::worker_token_budget;
  CATCH_CHECK(worker_token_budget(8192, 6000, 1) == 8192);  // one worker: the configured budget
  CATCH_CHECK(worker_token_budget(8192, 6000, 2) == 750);   // 6000 tokens / (2 workers x 4)
  CATCH_CHECK(worker_token_budget(8192, 6001, 2) == 751);   // rounded up, not a ninth batch
  CATCH_CHECK(worker_token_budget(512, 60000, 2) == 512);   // never raised
  CATCH_CHECK(worker_token_budget(8192, 1000, 2) == 256);  // not below kMinWorkerBatchTokens
  CATCH_CHECK(worker_token_budget(200, 1000, 2) == 200);   // nor above the budget
}

CATCH_TEST_CASE("device_token_budget: 0 is the device's own budget, anything else as configured",
                "[sweep][batching]") {
  using hs::sweep::device_token_budget;
  CATCH_CHECK(device_token_budget(0, false) == hs::sweep::kCpuTokenBudget);
  CATCH_CHECK(device_token_budget(0, true) == hs::sweep::kCudaTokenBudget);
  CATCH_CHECK(hs::sweep::kCpuTokenBudget == 8192);
  CATCH_CHECK(hs::sweep::kCudaTokenBudget == 32768);
  CATCH_CHECK(device_token_budget(4096, false) == 4096);
  CATCH_CHECK(device_token_budget(4096, true) == 4096);
  CATCH_CHECK(device_token_budget(64, true) == 64);
}
