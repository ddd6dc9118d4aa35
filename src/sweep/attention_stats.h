#pragma once
// Attention statistics per head over a dataset, under the full model (Clark et al. 2019, "What does
// BERT look at?"; Voita et al. 2019): for each query token, the attention mass on [CLS], on [SEP],
// on "." and "," (Clark et al.'s punctuation), on the token itself, on the previous and on the next
// token; the entropy of its attention distribution (nats) and its confidence (Voita et al.: the
// largest weight, leaving out the special tokens, as they leave out the end-of-sentence token that
// idle heads park their attention on). Averaged as Clark et al. do: over a sequence's real query
// tokens (padding excluded), then over sequences, per layer and head.
#include <cstdint>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "model/bert.h"
#include "sweep/inputs.h"

namespace hs::sweep {

struct AttentionStatistic {
  std::string name;         // "cls", "sep", "punct", "self", "prev", "next", "entropy", "confidence"
  std::string description;  // one line, for the results file
  at::Tensor values;        // (L, H) float64
};

struct AttentionStatistics {
  std::vector<AttentionStatistic> stats;  // in the order of the names above
  int64_t sequences = 0;
  int64_t tokens = 0;  // real query tokens averaged over
};

// token_is_punct: per vocabulary id, 1 for a punctuation token (text::is_punctuation_token).
// The statistics' values are (L, H); tokens counts the real query tokens, sequences the sequences.
AttentionStatistics attention_statistics(const model::BertModel& model, const std::vector<Batch>& batches, const std::vector<uint8_t>& token_is_punct,
                                         int32_t cls_id, int32_t sep_id);

}  // namespace hs::sweep
