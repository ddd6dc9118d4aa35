#include "sweep/attention_stats.h"

#include <c10/core/InferenceMode.h>

namespace hs::sweep {

AttentionStatistics attention_statistics(const model::BertModel& model, const std::vector<Batch>& batches, const std::vector<uint8_t>& token_is_punct,
                                         int32_t cls_id, int32_t sep_id) {
  c10::InferenceMode guard;
  const int64_t L = model.n_layers(), H = model.n_heads();
  static const std::vector<std::pair<std::string, std::string>> kinds = {
      {"cls", "Attention mass on [CLS], mean over a sequence's query tokens, then over sequences, (L, H)."},
      {"sep", "Attention mass on [SEP] tokens, mean over a sequence's query tokens, then over sequences, (L, H)."},
      {"punct", "Attention mass on '.' and ',' tokens (Clark et al. 2019), mean over a sequence's query tokens, "
                "then over sequences, (L, H)."},
      {"self", "Attention weight of a query token on itself, mean over a sequence's query tokens, then over "
               "sequences, (L, H)."},
      {"prev", "Attention weight on the previous token (0 for the first), mean over a sequence's query tokens, "
               "then over sequences, (L, H)."},
      {"next", "Attention weight on the next token (0 for the last), mean over a sequence's query tokens, then "
               "over sequences, (L, H)."},
      {"entropy", "Entropy (nats) of a query token's attention distribution, mean over a sequence's query tokens, "
                  "then over sequences, (L, H)."},
      {"confidence", "Largest attention weight of a query token on a token other than [CLS] and [SEP] (Voita et "
                     "al. 2019 leave out the end-of-sentence token), mean over a sequence's query tokens, then over "
                     "sequences, (L, H)."},
  };
  std::vector<at::Tensor> sums(kinds.size());
  // On the model's device, so a GPU run copies each statistic back once rather than per batch.
  for (at::Tensor& s : sums) s = at::zeros({L, H}, at::TensorOptions(model.device()).dtype(at::kDouble));
  const at::Tensor punct_table =
      at::from_blob(const_cast<uint8_t*>(token_is_punct.data()), {static_cast<int64_t>(token_is_punct.size())}, at::kByte)
          .to(model.device(), at::kFloat);
  const at::Tensor all_heads = at::ones({L, H}, at::TensorOptions(model.device()).dtype(at::kFloat));
  AttentionStatistics out;
  for (const Batch& b : batches) {
    const model::EncoderInput input = model::to_device(b.input, model.device());
    const at::Tensor& ids = input.input_ids;  // (B, T)
    const int64_t B = ids.size(0), T = ids.size(1);
    const at::Tensor real = input.attention_mask.to(at::kFloat);  // (B, T)
    const at::Tensor key_cls = (ids == cls_id).to(at::kFloat) * real;
    const at::Tensor key_sep = (ids == sep_id).to(at::kFloat) * real;
    const at::Tensor key_punct = punct_table.index_select(0, ids.reshape({-1})).view({B, T}) * real;
    std::vector<at::Tensor> probs;
    model.forward(input, all_heads, nullptr, &probs);
    // Each real query token weighs 1/(its sequence's length): a sequence's mean, then the mean over
    // sequences, as Clark et al. average, so long sequences do not count for more.
    const at::Tensor q = (real / real.sum(1, true)).view({B, 1, T});
    const at::Tensor not_special = (real - key_cls - key_sep).view({B, 1, 1, T});
    for (int64_t l = 0; l < L; ++l) {
      const at::Tensor& p = probs[l];  // (B, H, T, T)
      auto mass = [&](const at::Tensor& keys) { return (p * keys.view({B, 1, 1, T})).sum(-1); };  // (B, H, T)
      const at::Tensor zero = at::zeros({B, H, 1}, p.options());
      const at::Tensor prev = at::cat({zero, at::diagonal(p, -1, -2, -1)}, -1);
      const at::Tensor next = at::cat({at::diagonal(p, 1, -2, -1), zero}, -1);
      const at::Tensor per_query[] = {
          mass(key_cls), mass(key_sep), mass(key_punct), at::diagonal(p, 0, -2, -1), prev, next,
          -at::xlogy(p, p).sum(-1), std::get<0>((p * not_special).max(-1)),
      };
      for (size_t k = 0; k < kinds.size(); ++k) {
        sums[k][l] += (per_query[k] * q).sum(at::IntArrayRef{0, 2}).to(at::kDouble);
      }
    }
    out.sequences += B;
    out.tokens += b.real_tokens;
  }
  for (size_t k = 0; k < kinds.size(); ++k) {
    out.stats.push_back({kinds[k].first, kinds[k].second, (sums[k] / static_cast<double>(std::max<int64_t>(1, out.sequences))).cpu()});
  }
  return out;
}

}  // namespace hs::sweep
