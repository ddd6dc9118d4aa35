#include "sweep/executor.h"

#include <mutex>

#include <c10/core/InferenceMode.h>

#include "metrics/score.h"
#include "ops/upload.h"
#include "sweep/trie.h"
#include "sweep/workers.h"
#include "util/error.h"

namespace hs::sweep {

double work_per_mask(const SweepProblem& p) {
  double w = 0;
  for (const Batch& b : p.batches) w += static_cast<double>(b.padded_tokens);
  return w;
}

int64_t batch_examples(const SweepProblem& p, const Batch& b) {
  // An example counts once, on the row holding its first (or only) sequence.
  int64_t examples = 0;
  for (int64_t s : b.sequence_index) examples += p.inputs.sequences[s].slot == 0;
  return examples;
}

at::Tensor mask_gates(const masks::MaskSet& set, int64_t n) {
  const int L = set.n_layers(), H = set.n_heads();
  return at::from_blob(const_cast<uint8_t*>(set.mask(n)), {L, H}, at::kByte).to(at::kFloat);
}

at::Tensor score_sequences(const SweepProblem& p, const at::Tensor& gates, Progress* progress) {
  at::Tensor out = at::empty({static_cast<int64_t>(p.inputs.sequences.size()), head_output_width(*p.model, p.head)});
  std::mutex progress_mutex;
  // Workers write disjoint rows of out.
  parallel_items(p.batches.size(), [&](size_t i) {
    const Batch& b = p.batches[i];
    const at::Tensor o = sequence_outputs(*p.model, p.head, b.input, gates).to(at::kCPU, at::kFloat);
    const at::Tensor idx = at::from_blob(const_cast<int64_t*>(b.sequence_index.data()),
                                         {static_cast<int64_t>(b.sequence_index.size())}, at::kLong);
    out.index_copy_(0, idx, o);
    if (progress) {
      std::lock_guard<std::mutex> lock(progress_mutex);
      progress->advance(static_cast<double>(b.padded_tokens), batch_examples(p, b));
    }
  }, p.model->device());
  return out;
}

void run_naive(const SweepProblem& p, const masks::MaskSet& set, const std::vector<int64_t>& todo, const MaskDone& done,
               Progress& progress) {
  c10::InferenceMode guard;
  std::vector<int64_t> seq_example;
  std::vector<int> seq_slot;
  for (const Sequence& s : p.inputs.sequences) {
    seq_example.push_back(s.example);
    seq_slot.push_back(s.slot);
  }
  for (int64_t n : todo) {
    const at::Tensor out = score_sequences(p, ops::upload(mask_gates(set, n), p.model->device()), &progress);
    MaskResult r;
    r.mask = n;
    r.predictions =
        example_predictions(p.head, p.inputs.n_examples, p.inputs.slots, seq_example, seq_slot, out);
    const std::vector<double> pred(r.predictions.begin(), r.predictions.end());
    r.scores = metrics::score(p.metrics, pred, p.gold);
    r.outputs = out;
    done(r);
    progress.mask_done();
  }
}

double total_work(const std::string& executor, const SweepProblem& p, const masks::MaskSet& set,
                  const std::vector<int64_t>& todo) {
  if (executor == "trie") {
    return work_per_mask(p) * trie_layer_passes(set, todo, TrieOptions{}.group_masks) / set.n_layers();
  }
  return work_per_mask(p) * static_cast<double>(todo.size());
}

void run_executor(const std::string& executor, const SweepProblem& p, const masks::MaskSet& set,
                  const std::vector<int64_t>& todo, const MaskDone& done, Progress& progress) {
  if (executor == "trie") return run_trie(p, set, todo, done, progress);
  if (executor == "naive") return run_naive(p, set, todo, done, progress);
  hs::input_error("unknown runtime.executor '{}'", executor);
}

}  // namespace hs::sweep
