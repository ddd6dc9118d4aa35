#include "sweep/importance.h"

#include <stdexcept>

#include "sweep/workers.h"

#include <fmt/format.h>

namespace hs::sweep {
namespace {

// The per-example loss (B) of one batch's head outputs. rows: the batch's sequences in
// inputs.sequences; out: (rows, X) head outputs.
at::Tensor example_losses(const HeadSpec& head, const data::TaskSpec& task, const ScoringInputs& inputs,
                          const std::vector<int64_t>& rows, const std::vector<int64_t>& examples,
                          const std::vector<double>& gold, const at::Tensor& out) {
  const auto B = static_cast<int64_t>(examples.size());
  std::vector<double> target(B);
  for (int64_t i = 0; i < B; ++i) target[i] = gold[examples[i]];
  if (head.kind == HeadKind::Similarity) {
    // Row of each example's first and second sentence within the batch.
    std::vector<int64_t> first(B, -1), second(B, -1);
    for (size_t r = 0; r < rows.size(); ++r) {
      const Sequence& s = inputs.sequences[rows[r]];
      for (int64_t i = 0; i < B; ++i) {
        if (examples[i] == s.example) (s.slot == 0 ? first : second)[i] = static_cast<int64_t>(r);
      }
    }
    const at::Tensor cos = pair_cosine(out.index_select(0, at::tensor(first, at::kLong).to(out.device())),
                                       out.index_select(0, at::tensor(second, at::kLong).to(out.device())));
    if (task.kind == data::TaskKind::Regression) {
      for (double& t : target) t = (t - task.score_min) / (task.score_max - task.score_min);
    }
    const at::Tensor y = at::tensor(target, at::kDouble).to(out.device(), at::kFloat);
    return (cos - y).pow(2);
  }
  if (head.kind == HeadKind::Regression) {
    const at::Tensor y = at::tensor(target, at::kDouble).to(out.device(), at::kFloat);
    return (out.select(1, 0) - y).pow(2);
  }
  // Classification: the checkpoint's class whose task label is the gold one.
  std::vector<int64_t> cls(B);
  for (int64_t i = 0; i < B; ++i) {
    const auto label = static_cast<int>(target[i]);
    int64_t k = 0;
    while (k < static_cast<int64_t>(head.class_map.size()) && head.class_map[k] != label) ++k;
    if (k == static_cast<int64_t>(head.class_map.size()))
      throw std::invalid_argument(fmt::format("importance: no checkpoint class for label {}", label));
    cls[i] = k;
  }
  return at::cross_entropy_loss(out, at::tensor(cls, at::kLong).to(out.device()), {}, at::Reduction::None);
}

std::vector<double> values_of(const at::Tensor& t /* (L, H) float64 */) {
  const at::Tensor c = t.contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

at::Tensor tensor_of(const std::vector<double>& v, int64_t L, int64_t H) {
  return at::tensor(v, at::kDouble).view({L, H});
}

}  // namespace

at::Tensor normalize_layers(const at::Tensor& scores) {
  return scores / (scores.pow(2).sum(-1).pow(0.5).unsqueeze(-1) + 1e-20);
}

at::Tensor normalize_global(const at::Tensor& scores) {
  return (scores - scores.min()) / (scores.max() - scores.min());
}

Importance gradient_importance(const model::BertModel& model, const HeadSpec& head, const data::TaskSpec& task,
                               const ScoringInputs& inputs, const std::vector<double>& gold,
                               const at::Tensor& gates, int32_t pad_id, const ImportanceOptions& options,
                               ImportanceParts* kept) {
  const bool michel = options.method == "michel";
  if (!michel && options.method != "bertology")
    throw std::invalid_argument("importance: unknown method '" + options.method + "' (michel or bertology)");
  const int64_t L = model.n_layers(), H = model.n_heads();
  if (gates.dim() != 2 || gates.size(0) != L || gates.size(1) != H)
    throw std::invalid_argument(fmt::format("importance: gates must be (L={}, H={})", L, H));
  const int64_t N = inputs.n_examples;
  const int64_t per_batch = std::max<int64_t>(1, options.batch_size);
  // Sequences of each example, so a batch holds whole examples (a similarity loss needs both).
  std::vector<std::vector<int64_t>> seqs_of(N);
  for (size_t s = 0; s < inputs.sequences.size(); ++s) seqs_of[inputs.sequences[s].example].push_back(static_cast<int64_t>(s));

  // Batches are independent given the gates, so they run on parallel_items' workers; what each
  // contributes is kept per batch and combined in batch order afterwards, so the result does not
  // depend on the thread count (bertology's running sum needs that order anyway).
  const int64_t n_batches = N / per_batch + (N % per_batch != 0);  // (N + per_batch - 1) could overflow
  std::vector<ImportancePart> parts(static_cast<size_t>(n_batches));
  parallel_items(parts.size(), [&](size_t k) {
    if (kept) {
      if (std::optional<ImportancePart> done = kept->find(static_cast<int64_t>(k))) {
        parts[k] = std::move(*done);
        return;
      }
    }
    const int64_t first = static_cast<int64_t>(k) * per_batch;
    std::vector<int64_t> examples, rows;
    for (int64_t e = first; e < std::min(N, first + per_batch); ++e) {
      examples.push_back(e);
      rows.insert(rows.end(), seqs_of[e].begin(), seqs_of[e].end());
    }
    const Batch b = pack_batch(inputs, rows, pad_id);
    const model::EncoderInput input = model::to_device(b.input, model.device());
    const int64_t R = input.input_ids.size(0), T = input.input_ids.size(1);
    // One gate per (layer, row, query token, head) at the mask's value: its gradient is the
    // per-token importance, and summed over rows and tokens the gradient of an (L, H) head mask.
    const at::Tensor g =
        gates.to(model.device(), at::kFloat).view({L, 1, 1, H}).expand({L, R, T, H}).clone().set_requires_grad(true);
    const at::Tensor out = head_outputs(model, head, model.forward(input, g), input.attention_mask);
    const at::Tensor losses = example_losses(head, task, inputs, rows, examples, gold, out);
    (michel ? losses.sum() : losses.mean()).backward();
    const at::Tensor grad = g.grad().to(at::kCPU, at::kDouble);  // (L, R, T, H); zero at padding
    ImportancePart& p = parts[k];
    p.abs_sum = values_of(grad.abs().sum(at::IntArrayRef{1, 2}));
    p.sum = values_of(grad.sum(at::IntArrayRef{1, 2}));
    p.loss = losses.sum().item<double>();
    p.tokens = b.real_tokens;
    p.examples = static_cast<int64_t>(examples.size());
    if (kept) kept->add(static_cast<int64_t>(k), p);
  }, model.device());
  Importance r;
  r.method = options.method;
  at::Tensor acc = at::zeros({L, H}, at::kDouble);
  at::Tensor running = at::zeros({L, H}, at::kDouble);  // bertology: the head mask's never-zeroed .grad
  double loss_sum = 0;
  for (const ImportancePart& p : parts) {
    if (michel) {
      acc += tensor_of(p.abs_sum, L, H);
    } else {
      running += tensor_of(p.sum, L, H);
      acc += running.abs();
    }
    loss_sum += p.loss;
    r.tokens += p.tokens;
    r.examples += p.examples;
  }
  r.mean_loss = N > 0 ? loss_sum / static_cast<double>(N) : 0.0;
  if (michel) {
    // The authors' code saves a head's context after its mask has been applied, so the product it
    // scores is g·(context·grad): a head gated off scores 0 and does not weigh in its layer's l2
    // norm when a pruning step recomputes the importance under its mask.
    acc *= gates.to(at::kDouble).abs();
  }
  r.raw = acc / static_cast<double>(std::max<int64_t>(1, r.tokens));
  if (michel && L > 0 && reads_cls_only(head)) {
    // Where only [CLS]'s last-layer output reaches the loss (a classifier on BERT's pooler, as in the
    // authors' MNLI runs, or [CLS] pooling), that layer's sum has one term per sequence, and the
    // authors divide it by the examples; with mean or max pooling every token's does, and the real
    // tokens stay the divisor there as in the other layers.
    r.raw[L - 1] = acc[L - 1] / static_cast<double>(std::max<int64_t>(1, r.examples));
  }
  r.scores = r.raw.clone();
  if (options.normalize) {
    r.scores = normalize_layers(r.scores);
    if (!michel) r.scores = normalize_global(r.scores);
  }
  return r;
}

}  // namespace hs::sweep
