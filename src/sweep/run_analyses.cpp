#include "sweep/run_analyses.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "io/results_file.h"
#include "metrics/ablation.h"
#include "sweep/importance.h"
#include "sweep/pruning.h"
#include "sweep/sample_rows.h"
#include "util/error.h"
#include "util/sha256.h"

namespace hs::sweep {

ImportanceSource::ImportanceSource(const io::Plan& plan, const data::TaskSpec& task, const model::BertModel& model,
                                   const HeadSpec& head, const text::Tokenizer& tok)
    : plan_(plan), task_(task), model_(model), head_(head), pad_id_(tok.pad_id()) {
  const io::ImportanceOptions& o = plan.importance;
  split_ = o.split != "auto" ? o.split : o.method == "michel" ? "train" : "dev";
  // runtime.seed + 1: a draw of its own, even where the split is the one the sweep scores.
  const data::Dataset data = load_rows(task, plan.task.data_dir, split_, o.limit, o.sample,
                                       static_cast<uint64_t>(plan.runtime.seed) + 1);
  if (data.examples.empty()) plan.where.fail("importance.split", "{} ({}) has no examples", split_, data.path);
  for (const data::Example& ex : data.examples) gold_.push_back(ex.label);
  inputs_ = build_inputs(data, tok, head, plan.task.max_seq_len);
}

std::string ImportanceSource::kept_note(const std::vector<uint8_t>& mask) const {
  if (!store_) return "";
  if (store_->find(mask)) return " (read back from " + store_->path() + ")";
  const size_t batches = store_->parts_kept(mask);
  if (batches == 0) return "";
  return fmt::format(" ({} batch{} read back from {})", batches, batches == 1 ? "" : "es", store_->path());
}

std::string ImportanceSource::data_sha256() const {
  Sha256 sha;
  sha.update(inputs_sha256(inputs_, head_));
  sha.update(gold_.data(), gold_.size() * sizeof(double));
  return sha.hex();
}

io::HeadImportance ImportanceSource::at(const std::vector<uint8_t>& mask) const {
  if (store_) {
    if (std::optional<io::HeadImportance> kept = store_->find(mask)) return *kept;
  }
  const int64_t L = model_.n_layers(), H = model_.n_heads();
  const at::Tensor gates = at::from_blob(const_cast<uint8_t*>(mask.data()), {L, H}, at::kByte).to(at::kFloat);
  ImportanceOptions opts;
  opts.method = plan_.importance.method;
  opts.batch_size = plan_.importance.batch_size;
  opts.normalize = plan_.importance.normalize;
  const std::unique_ptr<ImportanceParts> kept = store_ ? store_->parts(mask) : nullptr;
  const Importance imp = gradient_importance(model_, head_, task_, inputs_, gold_, gates, pad_id_, opts, kept.get());
  io::HeadImportance h;
  h.method = opts.method;
  const at::Tensor scores = imp.scores.contiguous(), raw = imp.raw.contiguous();
  h.scores.assign(scores.data_ptr<double>(), scores.data_ptr<double>() + scores.numel());
  h.raw.assign(raw.data_ptr<double>(), raw.data_ptr<double>() + raw.numel());
  h.split = split_;
  h.examples = imp.examples;
  h.tokens = imp.tokens;
  h.mean_loss = imp.mean_loss;
  h.normalized = opts.normalize;
  if (store_) store_->add(mask, h);
  return h;
}

void check_pruning_options(const io::Plan& plan) {
  const io::PruningOptions& p = plan.pruning;
  if (p.schedule == "none") return;
  const auto has = [&](const char* order) { return std::find(p.orders.begin(), p.orders.end(), order) != p.orders.end(); };
  if (has("importance") && plan.importance.method == "none") {
    plan.where.fail("pruning.orders", "the importance order needs importance.method (michel or bertology)");
  }
  if (has("ablation") && p.ablation_from.empty())
    plan.where.fail("pruning.orders", "the ablation order needs pruning.ablation_from (a single-head results file)");
}

namespace {

// sha: the run's model_sha256; "" to skip the weights' check (validate does not hash the weights).
std::vector<double> ablation_order(const io::Plan& plan, const data::TaskSpec& task, const std::string& sha, int L,
                                   int H) {
  const std::string& path = plan.pruning.ablation_from;
  const io::ResultsFile f = [&] {
    try {
      return io::ResultsFile::open(path);
    } catch (const InputError& e) {
      plan.where.fail("pruning.ablation_from", "{}", e.what());
    }
  }();
  const io::ResultsHeader& h = f.info().header;
  if (h.n_layers != L || h.n_heads != H)
    plan.where.fail("pruning.ablation_from", "{} has {} layers of {} heads, the model {} of {}", path, h.n_layers,
                    h.n_heads, L, H);
  if (!sha.empty() && h.model_sha256 != sha)
    plan.where.fail("pruning.ablation_from", "{} was made with other weights (model_sha256 {}…, this run {}…)", path,
                    h.model_sha256.substr(0, 12), sha.substr(0, 12));
  if (h.task != task.name)
    plan.where.fail("pruning.ablation_from", "{} scores task {}, this run {}", path, h.task, task.name);
  const std::vector<double> drops = metrics::ablation_importance(f.masks(), f.scores(h.metrics.front()), L, H);
  for (int g = 0; g < L * H; ++g) {
    if (!std::isfinite(drops[g]))
      plan.where.fail("pruning.ablation_from", "{} has no scored mask removing only L{}.H{}", path, g / H, g % H);
  }
  return drops;
}

}  // namespace

bool check_pruning_for_model(const io::Plan& plan, const data::TaskSpec& task, const std::string& model_sha256, int L,
                             int H, bool file_may_be_missing) {
  const io::PruningOptions& p = plan.pruning;
  if (p.schedule == "none") return false;
  if (p.min_heads_per_layer >= H)
    plan.where.fail("pruning.min_heads_per_layer", "{}, but the model has {} heads per layer, so no head could be pruned",
                    p.min_heads_per_layer, H);
  if (std::find(p.orders.begin(), p.orders.end(), "ablation") == p.orders.end()) return false;
  std::error_code ec;
  if (file_may_be_missing && !std::filesystem::exists(p.ablation_from, ec)) return true;
  ablation_order(plan, task, model_sha256, L, H);
  return false;
}

std::vector<io::PruningRecord> pruning_curves(const io::Plan& plan, const data::TaskSpec& task,
                                              const std::string& model_sha256, masks::MaskSet& masks,
                                              const io::HeadImportance* importance, const ImportanceSource* source) {
  const io::PruningOptions& p = plan.pruning;
  std::vector<io::PruningRecord> out;
  if (p.schedule == "none") return out;
  const int L = masks.n_layers(), H = masks.n_heads();
  PruningSchedule sched;
  sched.kind = p.schedule;
  sched.fractions = p.fractions;
  sched.count = p.count > 0 ? p.count : std::max<int64_t>(1, std::llround(0.1 * L * H));
  sched.min_heads_per_layer = p.min_heads_per_layer;
  const bool recompute = p.schedule == "count" || p.recompute;
  auto add = [&](const PruningCurve& c) {
    io::PruningRecord r;
    r.name = c.name;
    r.fractions = c.fractions;
    r.heads_pruned = c.heads_pruned;
    for (size_t s = 0; s < c.masks.size(); ++s) {
      r.mask_index.push_back(masks.add(c.masks[s], fmt::format("prune-{}-{}", c.name, c.heads_pruned[s])));
    }
    out.push_back(std::move(r));
  };
  for (const std::string& order : p.orders) {
    if (order == "importance") {
      HeadScores scores = [&](const std::vector<uint8_t>& mask) {
        if (!recompute || std::all_of(mask.begin(), mask.end(), [](uint8_t g) { return g != 0; }))
          return importance->scores;
        fmt::print(stderr, "headsweep: {} importance under a mask of {} heads{}\n", plan.importance.method,
                   std::count(mask.begin(), mask.end(), uint8_t{1}), source->kept_note(mask));
        return source->at(mask).scores;
      };
      add(prune_curve("importance", L, H, sched, scores));
    } else if (order == "random") {
      for (int64_t i = 0; i < p.random_orders; ++i) {
        const std::vector<double> s = random_head_scores(L, H, static_cast<uint64_t>(plan.runtime.seed + i));
        add(prune_curve(fmt::format("random-{}", i), L, H, sched, [&](const std::vector<uint8_t>&) { return s; }));
      }
    } else if (order == "ablation") {
      const std::vector<double> s = ablation_order(plan, task, model_sha256, L, H);
      add(prune_curve("ablation", L, H, sched, [&](const std::vector<uint8_t>&) { return s; }));
    }
  }
  return out;
}

}  // namespace hs::sweep
