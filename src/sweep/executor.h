#pragma once
// Scores every mask of a mask set on one dataset: the executors' interface (SweepProblem, MaskResult,
// run_executor, which picks one by name) and the naive executor, one full forward per mask and
// batch, the reference that the trie (sweep/trie.h) is checked against.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "masks/mask_set.h"
#include "model/bert.h"
#include "sweep/head.h"
#include "sweep/inputs.h"
#include "sweep/progress.h"

namespace hs::sweep {

class GroupStore;

struct SweepProblem {
  const model::BertModel* model = nullptr;
  HeadSpec head;
  ScoringInputs inputs;
  std::vector<Batch> batches;
  std::vector<std::string> metrics;  // primary first
  std::vector<double> gold;          // (B)
  // runtime.token_budget: padded tokens the batches were cut under, before the cut for workers.
  // Bounds the trie's stacked continuations too (0: TrieOptions alone decides).
  int64_t token_budget = 0;
  // Where the trie keeps a group's outputs as its batches finish (sweep/group_store.h); none: a
  // killed run starts the group over.
  GroupStore* group_store = nullptr;
};

struct MaskResult {
  int64_t mask = 0;
  std::map<std::string, double> scores;
  std::vector<float> predictions;  // (B)
  at::Tensor outputs;              // (S, X) per-sequence head outputs: logits, scores or embeddings
  // The last of masks reported together (a trie group's): the next may be minutes away, so what
  // was reported should reach the disk now rather than with the next mask.
  bool burst_end = false;
};

using MaskDone = std::function<void(const MaskResult&)>;

// Work units for progress: padded tokens per pass over the data.
double work_per_mask(const SweepProblem& problem);

// Examples whose first (or only) sequence is in batch b: progress counts each example once.
int64_t batch_examples(const SweepProblem& problem, const Batch& b);

// Gates (L, H) float32 from mask n of the set.
at::Tensor mask_gates(const masks::MaskSet& set, int64_t n);

// Scores the masks listed in todo, calling done after each (in todo order).
void run_naive(const SweepProblem& problem, const masks::MaskSet& set, const std::vector<int64_t>& todo,
               const MaskDone& done, Progress& progress);

// The executor runtime.executor names ("trie" or "naive"), and the work it will do for these masks
// in progress units (padded tokens × layers), so ETAs come from the work left, not the mask count.
double total_work(const std::string& executor, const SweepProblem& problem, const masks::MaskSet& set,
                  const std::vector<int64_t>& todo);
void run_executor(const std::string& executor, const SweepProblem& problem, const masks::MaskSet& set,
                  const std::vector<int64_t>& todo, const MaskDone& done, Progress& progress);

// Outputs of one mask over the whole dataset, in sequence order: (S, X). Batches run on
// parallel_items' workers.
at::Tensor score_sequences(const SweepProblem& problem, const at::Tensor& gates, Progress* progress);

}  // namespace hs::sweep
