#include "sweep/head.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <numeric>
#include <string>
#include <fmt/ranges.h>

#include "util/error.h"

namespace hs::sweep {

const char* head_kind_name(HeadKind k) {
  switch (k) {
    case HeadKind::Classification: return "classification";
    case HeadKind::Regression: return "regression";
    case HeadKind::Similarity: return "similarity";
  }
  return "?";
}

namespace {

std::string normalise_label(std::string s) {
  std::string out;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// Whether output k's name says nothing about its class: Hugging Face's default LABEL_k, or k itself.
bool generic_label(const std::string& name, int k) {
  const std::string n = normalise_label(name);
  return n == "label" + std::to_string(k) || n == std::to_string(k);
}

// Checkpoints name their classes (id2label) either after the task's labels, in any order, or
// generically (LABEL_0, ... or 0, ...), in which case the index order is taken to be the task's
// (Hugging Face's GLUE label order). Names that are neither would give a label order that is a
// guess, so they are refused: a checkpoint trained with its classes swapped scores as if inverted.
std::vector<int> map_classes(const model::ModelDir& dir, const data::TaskSpec& task,
                             const std::vector<std::string>& labels, const io::OptionWhere& where) {
  const auto& id2label = dir.config.id2label;
  const int K = dir.config.num_labels;
  if (K != static_cast<int>(task.labels.size())) {
    hs::input_error("{}: classifier has {} labels but task {} has {} ({})", dir.path, K, task.name, task.labels.size(),
                    fmt::join(task.labels, ", "));
  }
  std::vector<int> map(K);
  std::iota(map.begin(), map.end(), 0);
  if (labels != std::vector<std::string>{"auto"}) {
    // The user's word for which output is which label, over whatever config.json says.
    if (static_cast<int>(labels.size()) != K)
      where.fail("model.labels", "{} label{} ({}), but the classifier of {} has {} outputs", labels.size(),
                 labels.size() == 1 ? "" : "s", fmt::join(labels, ", "), dir.path, K);
    std::vector<bool> taken(task.labels.size(), false);
    for (int k = 0; k < K; ++k) {
      const auto it = std::find(task.labels.begin(), task.labels.end(), labels[k]);
      if (it == task.labels.end())
        where.fail("model.labels", "'{}' is not a label of {} ({})", labels[k], task.name, fmt::join(task.labels, ", "));
      const size_t label = static_cast<size_t>(it - task.labels.begin());
      if (taken[label]) where.fail("model.labels", "'{}' is named twice: each output needs its own label", labels[k]);
      taken[label] = true;
      map[k] = static_cast<int>(label);
    }
    return map;
  }
  if (static_cast<int>(id2label.size()) != K) return map;  // no names: index order
  bool generic = true;
  for (int k = 0; k < K; ++k) generic = generic && generic_label(id2label[k], k);
  if (generic) return map;
  std::vector<bool> taken(task.labels.size(), false);
  for (int k = 0; k < K; ++k) {
    const auto it = std::find_if(task.labels.begin(), task.labels.end(),
                                 [&](const std::string& l) { return normalise_label(l) == normalise_label(id2label[k]); });
    const size_t label = static_cast<size_t>(it - task.labels.begin());
    if (it == task.labels.end() || taken[label]) {
      std::vector<std::string> names;
      for (int j = 0; j < K; ++j) names.push_back(fmt::format("{}: {}", j, id2label[j]));
      hs::input_error("{}/config.json: id2label ({}) does not name {}'s labels ({}) one to one, so which output "
                      "is which label is unknown; say it with model.labels (each output's label, in output order: [{}] "
                      "if they are in the task's order)",
                      dir.path, fmt::join(names, ", "), task.name, fmt::join(task.labels, ", "),
                      fmt::join(task.labels, ", "));
    }
    taken[label] = true;
    map[k] = static_cast<int>(label);
  }
  return map;
}

}  // namespace

HeadSpec resolve_head(const model::ModelDir& dir, const data::TaskSpec& task, const std::string& head,
                      const std::string& pooling, const io::OptionWhere& where,
                      const std::vector<std::string>& labels) {
  HeadSpec spec;
  const bool regression_task = task.kind == data::TaskKind::Regression;
  std::string kind = head;
  if (kind == "auto") {
    if (dir.has_classifier) {
      kind = dir.config.num_labels == 1 ? "regression" : "classification";
    } else {
      kind = "similarity";
    }
  }
  // What the error names: an automatic choice says what it chose.
  const std::string shown = head == "auto" ? fmt::format("auto ({})", kind) : head;
  if (kind == "classification" || kind == "regression") {
    if (!dir.has_classifier) {
      where.fail("model.head", "{}, but the checkpoint {} has no classifier weights (classifier.weight)", kind,
                 dir.path);
    }
    if (kind == "regression") {
      if (!regression_task) where.fail("model.head", "regression needs a regression task (stsb), not {}", task.name);
      if (dir.config.num_labels != 1) {
        hs::input_error("{}: regression head needs num_labels = 1, the checkpoint has {}", dir.path, dir.config.num_labels);
      }
      spec.kind = HeadKind::Regression;
    } else {
      if (regression_task)
        where.fail("model.head", "{}: task {} is a regression task, which a classification head cannot score", shown,
                   task.name);
      spec.kind = HeadKind::Classification;
      spec.class_map = map_classes(dir, task, labels, where);
    }
  } else if (kind == "similarity") {
    if (!task.has_pair() || !regression_task) {
      where.fail("model.head",
                 "{}: similarity scores sentence pairs by cosine and needs a similarity-rated pair task (stsb), not {}; "
                 "use a checkpoint with a classification head for {}",
                 shown, task.name, task.name);
    }
    spec.kind = HeadKind::Similarity;
  } else {
    where.fail("model.head", "unknown head '{}'", head);
  }
  if (spec.kind != HeadKind::Classification && labels != std::vector<std::string>{"auto"})
    where.fail("model.labels", "{}: only a classification head has labels to name (the head is {})",
               fmt::join(labels, ", "), head_kind_name(spec.kind));
  if (pooling == "auto") {
    spec.pooling = dir.pooling;
  } else if (pooling == "mean") {
    spec.pooling = model::Pooling::Mean;
  } else if (pooling == "cls") {
    spec.pooling = model::Pooling::Cls;
  } else if (pooling == "max") {
    spec.pooling = model::Pooling::Max;
  } else {
    where.fail("model.pooling", "unknown pooling '{}'", pooling);
  }
  return spec;
}

at::Tensor head_outputs(const model::BertModel& model, const HeadSpec& head, const at::Tensor& h,
                        const at::Tensor& attention_mask) {
  switch (head.kind) {
    case HeadKind::Classification:
    case HeadKind::Regression:
      return model.classify(h);
    case HeadKind::Similarity:
    default:
      return model.pool(h, attention_mask, head.pooling);
  }
}

bool reads_cls_only(const HeadSpec& head) {
  return head.kind != HeadKind::Similarity || head.pooling == model::Pooling::Cls;
}

int64_t head_output_width(const model::BertModel& model, const HeadSpec& head) {
  if (head.kind == HeadKind::Similarity) return model.config().hidden_size;
  return model.weights().classifier_w.size(0);
}

at::Tensor sequence_outputs(const model::BertModel& model, const HeadSpec& head, const model::EncoderInput& in,
                            const at::Tensor& gates) {
  return head_outputs(model, head, model.forward(in, gates), in.attention_mask);
}

at::Tensor pair_cosine(const at::Tensor& a, const at::Tensor& b) {
  auto normalize = [](const at::Tensor& x) { return x / x.norm(2, {1}, true).clamp_min(1e-12); };
  return (normalize(a) * normalize(b)).sum(1);
}

std::vector<float> example_predictions(const HeadSpec& head, int64_t n_examples, int slots,
                                       const std::vector<int64_t>& seq_example, const std::vector<int>& seq_slot,
                                       const at::Tensor& outputs) {
  std::vector<float> pred(n_examples, 0.0f);
  const int64_t S = outputs.size(0);
  if (head.kind == HeadKind::Similarity) {
    // Gather each example's two embeddings into (B, 2, C) and take their cosine.
    std::vector<int64_t> rows(n_examples * slots, -1);
    for (int64_t s = 0; s < S; ++s) rows[seq_example[s] * slots + seq_slot[s]] = s;
    const at::Tensor idx = at::from_blob(rows.data(), {n_examples, 2}, at::kLong).clone();
    const at::Tensor a = outputs.index_select(0, idx.select(1, 0));
    const at::Tensor b = outputs.index_select(0, idx.select(1, 1));
    const at::Tensor c = pair_cosine(a, b).contiguous();
    std::copy(c.data_ptr<float>(), c.data_ptr<float>() + n_examples, pred.begin());
    return pred;
  }
  const at::Tensor out = outputs.contiguous();
  // argmax would take a NaN logit for the largest: such a row has no class (NaN, an undefined score).
  const at::Tensor finite = at::isfinite(out).all(1).to(at::kCPU).contiguous();
  const bool* row_finite = finite.data_ptr<bool>();
  for (int64_t s = 0; s < S; ++s) {
    const at::Tensor row = out[s];
    if (head.kind == HeadKind::Regression) {
      pred[seq_example[s]] = row[0].item<float>();
    } else if (!row_finite[s]) {
      pred[seq_example[s]] = std::numeric_limits<float>::quiet_NaN();
    } else {
      pred[seq_example[s]] = static_cast<float>(head.class_map[row.argmax().item<int64_t>()]);
    }
  }
  return pred;
}

}  // namespace hs::sweep
