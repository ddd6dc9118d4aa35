#include "sweep/inputs.h"

#include <algorithm>
#include <numeric>

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

static Batch pack(const ScoringInputs& in, const std::vector<int64_t>& idx, int32_t pad_id) {
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
  std::vector<int64_t> order(in.sequences.size());
  std::iota(order.begin(), order.end(), 0);
  // Longest first: the first batch is the largest, so memory peaks at the start, not after an hour.
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return in.sequences[a].ids.size() > in.sequences[b].ids.size();
  });
  std::vector<Batch> batches;
  std::vector<int64_t> cur;
  int64_t cur_t = 0;
  for (int64_t s : order) {
    const int64_t t = static_cast<int64_t>(in.sequences[s].ids.size());
    const int64_t t_max = std::max(cur_t, t);
    if (!cur.empty() && t_max * static_cast<int64_t>(cur.size() + 1) > token_budget) {
      batches.push_back(pack(in, cur, pad_id));
      cur.clear();
      cur_t = 0;
    }
    cur.push_back(s);
    cur_t = std::max(cur_t, t);
  }
  if (!cur.empty()) batches.push_back(pack(in, cur, pad_id));
  return batches;
}

}  // namespace hs::sweep
