#include "sweep/inputs.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "util/sha256.h"

namespace hs::sweep {

ScoringInputs build_inputs(const data::Dataset& dataset, const text::Tokenizer& tok, const HeadSpec& head,
                           int max_seq_len) {
  ScoringInputs in;
  in.n_examples = static_cast<int64_t>(dataset.examples.size());
  in.slots = head.kind == HeadKind::Similarity ? 2 : 1;
  in.sequences.reserve(in.n_examples * in.slots);
  for (int64_t i = 0; i < in.n_examples; ++i) {
    const data::Example& ex = dataset.examples[i];
    auto push = [&](text::Encoding e, int slot) {
      in.n_tokens += static_cast<int64_t>(e.input_ids.size());
      in.sequences.push_back(Sequence{std::move(e.input_ids), std::move(e.token_type_ids), i, slot});
    };
    if (head.kind == HeadKind::Similarity) {
      push(tok.encode(ex.text_a, max_seq_len), 0);
      push(tok.encode(ex.text_b, max_seq_len), 1);
    } else if (dataset.task->has_pair()) {
      push(tok.encode_pair(ex.text_a, ex.text_b, max_seq_len), 0);
    } else {
      push(tok.encode(ex.text_a, max_seq_len), 0);
    }
  }
  return in;
}

Batch pack_batch(const ScoringInputs& in, const std::vector<int64_t>& idx, int32_t pad_id) {
  const int64_t B = static_cast<int64_t>(idx.size());
  int64_t T = 0;
  for (int64_t s : idx) T = std::max<int64_t>(T, in.sequences[s].ids.size());
  at::Tensor ids = at::full({B, T}, pad_id, at::kLong);
  at::Tensor types = at::zeros({B, T}, at::kLong);
  at::Tensor mask = at::zeros({B, T}, at::kLong);
  auto ia = ids.accessor<int64_t, 2>();
  auto ta = types.accessor<int64_t, 2>();
  auto ma = mask.accessor<int64_t, 2>();
  Batch b;
  for (int64_t r = 0; r < B; ++r) {
    const Sequence& s = in.sequences[idx[r]];
    for (size_t t = 0; t < s.ids.size(); ++t) {
      ia[r][t] = s.ids[t];
      ta[r][t] = s.types[t];
      ma[r][t] = 1;
    }
    b.real_tokens += static_cast<int64_t>(s.ids.size());
  }
  b.input = model::EncoderInput{ids, types, mask};
  b.sequence_index = idx;
  b.padded_tokens = B * T;
  return b;
}

std::vector<Batch> make_batches(const ScoringInputs& in, int64_t token_budget, int32_t pad_id) {
  const int64_t S = static_cast<int64_t>(in.sequences.size());
  std::vector<int64_t> order(S);
  std::iota(order.begin(), order.end(), 0);
  // Longest first: the first batch holds the longest rows, so memory peaks at the start, not after an hour.
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return in.sequences[a].ids.size() > in.sequences[b].ids.size();
  });
  if (S == 0) return {};
  std::vector<int64_t> len(S);
  for (int64_t k = 0; k < S; ++k) len[k] = static_cast<int64_t>(in.sequences[order[k]].ids.size());
  // Rows that fit a batch starting with a sequence of length t; an over-budget sequence runs alone.
  auto cap = [&](int64_t t) { return std::max<int64_t>(1, token_budget / std::max<int64_t>(1, t)); };

  // A batch is a run [j, i) of the sorted order and pads to its first length: (i - j) * len[j]
  // tokens. Filling each batch until the budget runs out gives the fewest batches but leaves its
  // boundaries wherever that happens (on STS-B dev, 16% padding at 8192). Among partitions with
  // that fewest count, this picks the one with the least padding, by dynamic programming over run
  // ends, so it never costs an extra forward.
  struct Cost {
    int64_t batches, padded;
    bool operator<(const Cost& o) const { return batches != o.batches ? batches < o.batches : padded < o.padded; }
  };
  // Runs of equal length [run_begin[r], run_end[r]), longest first. Within one run the earliest
  // reachable start is always at least as good (dropping a row from the end of any partition of
  // [0, j + 1) saves >= len[j]), so each end i only needs one candidate per run: O(S * lengths).
  std::vector<int64_t> run_begin, run_end, run_of(S);
  for (int64_t k = 0; k < S; ++k) {
    if (k == 0 || len[k] != len[k - 1]) {
      run_begin.push_back(k);
      run_end.push_back(k);
    }
    run_end.back() = k + 1;
    run_of[k] = static_cast<int64_t>(run_begin.size()) - 1;
  }
  std::vector<Cost> best(S + 1);
  std::vector<int64_t> from(S + 1, 0);
  best[0] = Cost{0, 0};
  for (int64_t i = 1; i <= S; ++i) {
    bool found = false;
    // Earlier runs are longer, so they reach back less far: stop at the first one out of reach.
    for (int64_t r = run_of[i - 1]; r >= 0; --r) {
      const int64_t t = len[run_begin[r]];
      const int64_t j = std::max(run_begin[r], i - cap(t));
      if (j >= std::min(run_end[r], i)) break;
      const Cost c{best[j].batches + 1, best[j].padded + (i - j) * t};
      if (!found || c < best[i]) {
        best[i] = c;
        from[i] = j;
        found = true;
      }
    }
  }
  std::vector<int64_t> ends;
  for (int64_t i = S; i > 0; i = from[i]) ends.push_back(i);
  std::reverse(ends.begin(), ends.end());
  std::vector<Batch> batches;
  int64_t j = 0;
  for (int64_t i : ends) {
    batches.push_back(pack_batch(in, std::vector<int64_t>(order.begin() + j, order.begin() + i), pad_id));
    j = i;
  }
  return batches;
}

int64_t device_token_budget(int64_t configured, bool cuda) {
  if (configured != 0) return configured;
  return cuda ? kCudaTokenBudget : kCpuTokenBudget;
}

int64_t worker_token_budget(int64_t token_budget, int64_t real_tokens, int threads) {
  if (threads <= 1) return token_budget;
  const int64_t target = threads * int64_t{kBatchesPerWorker};
  return std::min(token_budget, std::max(kMinWorkerBatchTokens, (real_tokens + target - 1) / target));
}

std::string inputs_sha256(const ScoringInputs& inputs, const HeadSpec& head) {
  Sha256 sha;
  auto put_int = [&](int64_t v) { sha.update(&v, sizeof v); };
  put_int(static_cast<int64_t>(head.kind));
  put_int(static_cast<int64_t>(head.pooling));
  put_int(static_cast<int64_t>(head.class_map.size()));
  for (int c : head.class_map) put_int(c);
  put_int(inputs.n_examples);
  for (const Sequence& s : inputs.sequences) {
    put_int(s.example);
    put_int(s.slot);
    put_int(static_cast<int64_t>(s.ids.size()));
    sha.update(s.ids.data(), s.ids.size() * sizeof(int32_t));
    sha.update(s.types.data(), s.types.size() * sizeof(int32_t));
  }
  return sha.hex();
}

}  // namespace hs::sweep
