#include "sweep/run.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "data/glue_tasks.h"
#include "io/results.h"
#include "masks/strategies.h"
#include "model/bert.h"
#include "model/model_dir.h"
#include "model/safetensors.h"
#include "sweep/executor.h"
#include "text/tokenizer.h"
#include "util/error.h"

namespace hs::sweep {
namespace {

void check_device(const std::string& device) {
  if (device == "cpu" || device == "auto") return;
#ifndef HEADSWEEP_HAS_CUDA
  hs::input_error("runtime.device is {} but this build of headsweep has no CUDA support (use cpu or auto)", device);
#endif
}

// The folder name identifies the checkpoint as the user knows it; config.json's _name_or_path
// often names the model it was fine-tuned from instead (all-MiniLM-L6-v2 says MiniLM-L6-H384-uncased).
std::string model_id(const model::ModelDir& dir) {
  std::string p = dir.path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p.substr(p.find_last_of('/') + 1);
}

}  // namespace


RunSummary run_plan(const io::Plan& plan) {
  const auto t0 = std::chrono::steady_clock::now();
  check_device(plan.runtime.device);
  const model::ModelDir dir = model::inspect_model_dir(plan.model.path);
  const data::TaskSpec& task = data::find_task(plan.task.name);
  const HeadSpec head = resolve_head(dir, task, plan.model.head, plan.model.pooling);
  const data::Dataset dataset = data::load_split(task, plan.task.data_dir, plan.task.split, plan.task.limit);
  if (dataset.examples.empty()) hs::input_error("{}: no examples to score", dataset.path);
  if (plan.task.max_seq_len > dir.config.max_position_embeddings) {
    hs::input_error("task.max_seq_len {} exceeds the model's max_position_embeddings {} ({}/config.json)",
                    plan.task.max_seq_len, dir.config.max_position_embeddings, dir.path);
  }
  const text::Tokenizer tok = text::Tokenizer::from_model_dir(dir.path);
  const int L = dir.config.num_hidden_layers, H = dir.config.num_attention_heads;
  const masks::MaskSet mask_set = masks::make_masks(plan.sweep.strategy, L, H);

  std::vector<double> gold;
  std::vector<int64_t> rows;
  for (const data::Example& ex : dataset.examples) {
    gold.push_back(ex.label);
    rows.push_back(ex.row);
  }

  // Weights are loaded (and every tensor checked) before the results file exists, so a broken
  // checkpoint leaves no file behind.
  const model::BertModel model = model::BertModel::load(dir);

  io::ResultsHeader header;
  header.tool_version = HEADSWEEP_VERSION;
  header.config_yaml = io::dump_config(plan);
  header.model_path = dir.path;
  header.model_id = model_id(dir);
  header.model_sha256 = model::sha256_file(dir.weights_path);
  header.task = task.name;
  header.split = plan.task.split;
  header.strategy = plan.sweep.strategy;
  header.n_layers = L;
  header.n_heads = H;
  header.metrics = task.metrics;
  io::ResultsWriter writer = io::ResultsWriter::create(plan.output.path, header, mask_set.data(), mask_set.names(), gold,
                                                       rows, plan.output.overwrite);

  SweepProblem problem;
  problem.model = &model;
  problem.head = head;
  problem.inputs = build_inputs(dataset, tok, head, plan.task.max_seq_len);
  problem.batches = make_batches(problem.inputs, plan.runtime.token_budget, tok.pad_id());
  problem.metrics = task.metrics;
  problem.gold = gold;

  RunSummary s;
  s.output_path = plan.output.path;
  s.model_id = header.model_id;
  s.task = task.name;
  s.split = plan.task.split;
  s.strategy = plan.sweep.strategy;
  s.head = head_kind_name(head.kind);
  s.n_examples = static_cast<int64_t>(dataset.examples.size());
  s.n_masks = mask_set.size();
  s.metrics = task.metrics;
  s.mask_names = mask_set.names();
  s.scores.resize(mask_set.size());

  std::vector<int64_t> todo(mask_set.size());
  std::iota(todo.begin(), todo.end(), 0);
  Progress progress(progress_mode(plan.runtime.progress), mask_set.size(), work_per_mask(problem) * mask_set.size());
  run_naive(problem, mask_set, todo, [&](const MaskResult& r) {
    writer.write_mask(r.mask, r.scores, r.predictions);
    s.scores[r.mask] = r.scores;
  }, progress);
  progress.finish();
  writer.finish();
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

std::string format_summary(const RunSummary& s, int top_k) {
  std::string out = fmt::format("{} on {} {} ({} examples, {} head): {} masks ({}) in {:.1f} s\n", s.model_id, s.task,
                                s.split, s.n_examples, s.head, s.n_masks, s.strategy, s.seconds);
  const std::map<std::string, double>& base = s.scores.at(0);
  out += "baseline:";
  for (const std::string& m : s.metrics) out += fmt::format("  {} {:.4f}", m, base.at(m));
  out += "\n";
  if (s.n_masks > 1) {
    const std::string& primary = s.metrics.front();
    std::vector<int64_t> order(s.n_masks - 1);
    std::iota(order.begin(), order.end(), 1);
    // NaN scores (e.g. a constant prediction under Spearman) sort last rather than scrambling the order.
    auto drop = [&](int64_t n) {
      const double v = s.scores[n].at(primary);
      return std::isnan(v) ? -INFINITY : base.at(primary) - v;
    };
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return drop(a) > drop(b); });
    const int k = std::min<int>(top_k, static_cast<int>(order.size()));
    out += fmt::format("{} masks whose removal hurts {} most:\n", k, primary);
    for (int i = 0; i < k; ++i) {
      const int64_t n = order[i];
      std::string name = s.mask_names[n];
      if (!name.empty() && name[0] == '-') name = name.substr(1);
      out += fmt::format("  {:>2}. {:<8} {} {:.4f}  (drop {:+.4f})\n", i + 1, name, primary, s.scores[n].at(primary),
                         drop(n));
    }
  }
  out += fmt::format("results: {}\n", s.output_path);
  return out;
}

}  // namespace hs::sweep
