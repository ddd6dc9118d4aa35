#pragma once
// The analyses a run computes with the model before the sweep (gradient importance, pruning curves),
// turned into what the results file stores. run_plan's helpers; separate so run.cpp stays the flow.
#include <optional>
#include <string>
#include <vector>

#include "data/glue_tasks.h"
#include "io/plan.h"
#include "io/results.h"
#include "masks/mask_set.h"
#include "model/bert.h"
#include "sweep/head.h"
#include "sweep/importance_store.h"
#include "sweep/inputs.h"
#include "text/tokenizer.h"

namespace hs::sweep {

// The data gradient importance is taken on (importance.split, importance.limit), loaded once.
class ImportanceSource {
 public:
  ImportanceSource(const io::Plan& plan, const data::TaskSpec& task, const model::BertModel& model,
                   const HeadSpec& head, const text::Tokenizer& tok);
  // Importance at `mask` ((L, H), 1 = kept), as the results file stores it: read back from the
  // store when it holds it, else computed (and then kept there).
  io::HeadImportance at(const std::vector<uint8_t>& mask) const;
  // Keeps every importance computed from now on in `store`, and reads back what it holds.
  void keep_in(ImportanceStore* store) { store_ = store; }
  // " (read back from PATH)" when the store holds the importance at `mask`; "" otherwise.
  std::string kept_note(const std::vector<uint8_t>& mask) const;
  // SHA-256 (hex) of the examples and gold labels the importance is taken on: part of the store's key.
  std::string data_sha256() const;
  const std::string& split() const { return split_; }
  int64_t examples() const { return inputs_.n_examples; }

 private:
  const io::Plan& plan_;
  const data::TaskSpec& task_;
  const model::BertModel& model_;
  HeadSpec head_;
  int32_t pad_id_;
  std::string split_;
  ScoringInputs inputs_;
  std::vector<double> gold_;
  ImportanceStore* store_ = nullptr;
};

// The curves pruning.* asks for, their masks added to `masks` (each distinct mask once; a curve's
// step points at the row that holds it). importance: the full model's (for a fixed ranking);
// source: for recomputing; both null when no curve uses the importance order. InputError for
// option combinations that cannot work (naming the options) and for an unusable ablation_from file.
std::vector<io::PruningRecord> pruning_curves(const io::Plan& plan, const data::TaskSpec& task,
                                              const std::string& model_sha256, masks::MaskSet& masks,
                                              const io::HeadImportance* importance, const ImportanceSource* source);

// Checks pruning.* against importance.* before any work.
void check_pruning_options(const io::Plan& plan);

// pruning.* against the model: pruning.min_heads_per_layer below H, and the single-head results file
// of pruning.ablation_from, when an order reads it: that it exists, has the model's L and H, scores
// this task with these weights (model_sha256; "" skips that check) and removes every head alone.
// Called before any forward pass, so that a wrong option fails in the first second, not after the
// importance. With file_may_be_missing (validate: an earlier job of the study may write the file),
// a missing file is not an error, and the result says that it is missing.
bool check_pruning_for_model(const io::Plan& plan, const data::TaskSpec& task, const std::string& model_sha256, int L,
                             int H, bool file_may_be_missing = false);

}  // namespace hs::sweep
