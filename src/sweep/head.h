#pragma once
// Task heads: what a forward pass is turned into, per example. Classification takes the argmax of the
// checkpoint's classifier (its labels mapped onto the task's label order), regression the single
// logit, and similarity the cosine of the two sentences' pooled embeddings (for checkpoints, such as
// sentence-transformers exports, that carry no task head).
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "data/glue_tasks.h"
#include "io/plan.h"
#include "model/bert.h"
#include "model/model_dir.h"

namespace hs::sweep {

enum class HeadKind { Classification, Regression, Similarity };
const char* head_kind_name(HeadKind k);

struct HeadSpec {
  HeadKind kind = HeadKind::Similarity;
  model::Pooling pooling = model::Pooling::Mean;
  // class_map[k] = task label index of the checkpoint's output k (classification only).
  std::vector<int> class_map;
};

// head: auto | classification | regression | similarity; pooling: auto | mean | cls | max;
// labels: {"auto"} (config.json's id2label) or the task label of each classifier output, in output
// order (model.labels). Errors (InputError) when the checkpoint and task cannot be combined, naming
// both, and pointing at model.head or model.labels in the config through `where`.
HeadSpec resolve_head(const model::ModelDir& dir, const data::TaskSpec& task, const std::string& head,
                      const std::string& pooling, const io::OptionWhere& where = {},
                      const std::vector<std::string>& labels = {"auto"});

// Head outputs from the encoder's last hidden states: (B, K) logits, (B, 1) scores, or (B, C) pooled
// embeddings.
at::Tensor head_outputs(const model::BertModel& model, const HeadSpec& head, const at::Tensor& h /* (B, T, C) */,
                        const at::Tensor& attention_mask /* (B, T) */);

// Whether only [CLS]'s last-layer output reaches head_outputs: a classifier or regressor reads BERT's
// pooler, tanh(W h[CLS] + b), whatever `pooling` says; a similarity head does when it pools [CLS].
bool reads_cls_only(const HeadSpec& head);

// Width of head_outputs: K, 1 or C.
int64_t head_output_width(const model::BertModel& model, const HeadSpec& head);

// Per-sequence outputs of one batch: (B, K) logits, (B, 1) scores, or (B, C) pooled embeddings.
at::Tensor sequence_outputs(const model::BertModel& model, const HeadSpec& head, const model::EncoderInput& in,
                            const at::Tensor& gates /* (L, H) or (L, B, H) */);

// Cosine similarity of each row pair, (B): a and b (B, C). Each row is normalised with eps 1e-12
// first, as sentence-transformers does before the dot product.
at::Tensor pair_cosine(const at::Tensor& a, const at::Tensor& b);

// outputs: (S, X) in sequence order. Returns the prediction per example (B): task label index,
// regression score, or cosine similarity; NaN for a classification whose logits are not all finite.
std::vector<float> example_predictions(const HeadSpec& head, int64_t n_examples, int slots,
                                       const std::vector<int64_t>& seq_example /* (S) */,
                                       const std::vector<int>& seq_slot /* (S) */, const at::Tensor& outputs);

}  // namespace hs::sweep
