#pragma once
// Gradient importance of every head at once (one backward pass per batch): the expected magnitude of
// dL/dg_h, L the task loss on gold labels and g_h the head's gate at its current value. Two published
// variants, which differ in where the absolute value is taken and how scores are normalised:
//   michel     Michel et al. 2019 (are-16-heads-really-better-than-1): |g·dL/dg| per token (the
//              dot of a head's gated context with its gradient), summed, so a gated-off head scores
//              0; layers divided by the real tokens, except the last layer of a head that reads
//              only [CLS] (a classifier on BERT's pooler, or [CLS] pooling), divided by the
//              examples; loss summed over the batch; optional per-layer l2.
//   bertology  Hugging Face's run_bertology.py (Prasanna et al. 2020): the gradient of one (L, H) head
//              mask, whose .grad is never zeroed between batches, so each batch adds |the running sum
//              of batch gradients|; divided by the real tokens; loss averaged over the batch; then
//              per-layer l2 and global min-max normalisation.
// Losses: cross-entropy on the gold class (classification), squared error (regression), and for
// similarity heads the squared error between the cosine and the gold score scaled to [0, 1] (the
// task's score range; sentence-transformers' CosineSimilarityLoss), or the gold class for
// classification tasks.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "data/glue_tasks.h"
#include "model/bert.h"
#include "sweep/head.h"
#include "sweep/inputs.h"

namespace hs::sweep {

struct ImportanceOptions {
  std::string method = "michel";  // michel | bertology
  int64_t batch_size = 32;        // examples per backward pass, in dataset order
  bool normalize = true;          // the method's published normalisation (see above); false: raw
};

// What one batch of examples contributes to an importance, before the batches are combined in order.
struct ImportancePart {
  std::vector<double> abs_sum;  // (L, H) row-major: Σ|grad| over the batch's rows and tokens
  std::vector<double> sum;      // (L, H) row-major: Σ grad
  double loss = 0;              // summed over the batch's examples
  int64_t tokens = 0, examples = 0;
};

// Where one importance computation's finished batches are kept, so that a stopped computation
// resumes at its unfinished ones. Called from parallel_items' workers, concurrently.
class ImportanceParts {
 public:
  virtual ~ImportanceParts() = default;
  // Batch k's part, when a run before this one finished it.
  virtual std::optional<ImportancePart> find(int64_t batch) const = 0;
  // Batch k has finished with `part`.
  virtual void add(int64_t batch, const ImportancePart& part) = 0;
};

struct Importance {
  std::string method;
  at::Tensor raw;     // (L, H) float64: accumulated and divided, before normalisation
  at::Tensor scores;  // (L, H) float64: raw after the normalisation asked for
  int64_t examples = 0;
  int64_t tokens = 0;       // real tokens the gradients came from
  double mean_loss = 0;     // per example, under the gates given
};

// inputs/gold: the examples to differentiate on (all of them, in dataset order); task: for the
// similarity target's scale. Batches run on parallel_items' workers; the result does not depend on
// their number. gates (L, H): the mask the gradient is taken at (ones: the full model;
// a pruning step passes its current mask). kept: the batches finished by an earlier run are taken
// from it instead of computed, and each batch computed is added to it (null: none). Throws
// std::invalid_argument for an unknown method.
Importance gradient_importance(const model::BertModel& model, const HeadSpec& head,
                               const data::TaskSpec& task, const ScoringInputs& inputs,
                               const std::vector<double>& gold, const at::Tensor& gates, int32_t pad_id,
                               const ImportanceOptions& options, ImportanceParts* kept = nullptr);

// Per-layer l2 normalisation: each layer's row divided by its l2 norm (+1e-20), as both reference
// implementations do it.
at::Tensor normalize_layers(const at::Tensor& scores /* (L, H) */);
// (x - min) / (max - min) over all heads.
at::Tensor normalize_global(const at::Tensor& scores /* (L, H) */);

}  // namespace hs::sweep
