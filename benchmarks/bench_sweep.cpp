// bench_sweep: throughput and memory of the sweep executors on a real checkpoint and GLUE dev data.
// Not a test: it prints measurements, and benchmarks/run.sh turns them into ratios. Modes:
//   executors  single-head sweep (1 + L·H masks), naive then trie executor on the same problem, in
//              this process: seconds, masks/s, trie/naive ratio, layer passes of each;
//   random     --masks M random masks (sparsities 0.1..0.9, M/9 per sparsity, seed 1), trie
//              executor: masks/s and the process's peak RSS;
//   forward    one plain forward pass (the baseline mask, naive executor): the process's peak RSS;
//   importance gradient importance of every head (Michel's variant) against one plain forward pass
//              over the same examples: seconds of each and their ratio.
// Each mode ends with one line "RESULT key=value ..." for scripts.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "data/glue_tasks.h"
#include "io/plan.h"
#include "masks/mask_set.h"
#include "masks/strategies.h"
#include "model/bert.h"
#include "model/heap.h"
#include "model/model_dir.h"
#include "model/threads.h"
#include "sweep/executor.h"
#include "sweep/head.h"
#include "sweep/importance.h"
#include "sweep/inputs.h"
#include "sweep/progress.h"
#include "sweep/trie.h"
#include "sweep/workers.h"
#include "text/tokenizer.h"
#include "util/error.h"

namespace {

using hs::masks::MaskSet;
using hs::sweep::MaskResult;
using hs::sweep::Progress;
using hs::sweep::ProgressMode;
using hs::sweep::SweepProblem;

struct Args {
  std::string model = "models/all-MiniLM-L6-v2";
  std::string glue;
  std::string task = "stsb";
  int64_t limit = 400;
  int threads = 0;
  std::string mode = "executors";
  int64_t masks = 10000;
  int64_t token_budget = 8192;
  int max_seq_len = 128;
  std::string batches_out;
  int64_t stack_tokens = hs::sweep::TrieOptions{}.stack_tokens;
};

// Everything a SweepProblem points at, kept alive together.
struct Setup {
  hs::model::ModelDir dir;
  hs::model::BertModel model;
  hs::data::Dataset data;
  SweepProblem problem;
};

std::unique_ptr<Setup> setup(const Args& a) {
  hs::model::ModelDir dir = hs::model::inspect_model_dir(a.model);
  const hs::data::TaskSpec& task = hs::data::find_task(a.task);
  auto s = std::make_unique<Setup>(
      Setup{dir, hs::model::BertModel::load(dir), hs::data::load_split(task, a.glue, "dev", a.limit), {}});
  if (s->data.examples.empty()) hs::input_error("{}: no examples to score", s->data.path);
  const hs::text::Tokenizer tok = hs::text::Tokenizer::from_model_dir(dir.path);
  SweepProblem& p = s->problem;
  p.model = &s->model;
  p.head = hs::sweep::resolve_head(dir, task, "auto", "auto");
  p.inputs = hs::sweep::build_inputs(s->data, tok, p.head, a.max_seq_len);
  p.batches = hs::sweep::make_batches(
      p.inputs, hs::sweep::worker_token_budget(a.token_budget, p.inputs.n_tokens, hs::model::compute_threads()),
      tok.pad_id());
  p.token_budget = a.token_budget;
  p.metrics = task.metrics;
  for (const auto& ex : s->data.examples) p.gold.push_back(ex.label);
  return s;
}

std::vector<int64_t> all_masks(const MaskSet& set) {
  std::vector<int64_t> todo(set.size());
  std::iota(todo.begin(), todo.end(), int64_t{0});
  return todo;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Peak resident set of this process so far, MiB (Linux reports ru_maxrss in KiB).
double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

struct Timed {
  double seconds = 0;
  std::map<std::string, double> baseline;  // scores of mask 0
};

// Runs `executor` over every mask of `set`; keeps only mask 0's scores.
Timed run_timed(const std::string& executor, const SweepProblem& p, const MaskSet& set,
                const hs::sweep::TrieOptions& trie_opts = {}, hs::sweep::TrieStats* stats = nullptr) {
  const std::vector<int64_t> todo = all_masks(set);
  Progress progress(ProgressMode::None, set.size(), 1.0);
  Timed t;
  const auto done = [&](const MaskResult& r) {
    if (r.mask == 0) t.baseline = r.scores;
  };
  const auto t0 = std::chrono::steady_clock::now();
  if (executor == "trie") {
    hs::sweep::run_trie(p, set, todo, done, progress, trie_opts, stats);
  } else {
    hs::sweep::run_executor(executor, p, set, todo, done, progress);
  }
  t.seconds = seconds_since(t0);
  return t;
}

std::string describe(const Args& a, const Setup& s, int threads) {
  int64_t real = 0, padded = 0;
  for (const hs::sweep::Batch& b : s.problem.batches) {
    real += b.real_tokens;
    padded += b.padded_tokens;
  }
  const hs::sweep::WorkerSplit split = hs::sweep::split_threads(threads, s.problem.batches.size());
  return fmt::format("{} on {} dev: {} examples, {} sequences, {} batches ({} real / {} padded tokens; token budget {}, "
                     "{} per batch for {} threads), {} workers x {} threads",
                     a.model, a.task, s.data.examples.size(), s.problem.inputs.sequences.size(),
                     s.problem.batches.size(), real, padded, a.token_budget,
                     hs::sweep::worker_token_budget(a.token_budget, s.problem.inputs.n_tokens, threads), threads,
                     split.workers, split.threads_each);
}

hs::sweep::TrieOptions trie_options(const Args& a) {
  hs::sweep::TrieOptions o;
  o.stack_tokens = a.stack_tokens;
  return o;
}

void write_batches(const std::string& path, const SweepProblem& p) {
  nlohmann::json batches = nlohmann::json::array();
  for (const hs::sweep::Batch& b : p.batches) {
    nlohmann::json rows = nlohmann::json::array();
    for (int64_t i : b.sequence_index) rows.push_back({p.inputs.sequences[i].example, p.inputs.sequences[i].slot});
    batches.push_back(rows);
  }
  std::ofstream out(path);
  out << nlohmann::json{{"batches", batches}}.dump() << "\n";
  if (!out) hs::input_error("{}: cannot write the batches", path);
}

int mode_executors(const Args& a, const Setup& s) {
  const SweepProblem& p = s.problem;
  const int L = s.model.n_layers(), H = s.model.n_heads();
  const MaskSet set = hs::masks::make_masks("single-head", L, H);
  const int64_t n = set.size();
  const auto S = static_cast<int64_t>(p.inputs.sequences.size());
  const std::string primary = p.metrics.front();

  const Timed naive = run_timed("naive", p, set);
  fmt::print("naive: {} masks in {:.2f} s, {:.3f} masks/s\n", n, naive.seconds, n / naive.seconds);
  hs::sweep::TrieStats stats;
  const Timed trie = run_timed("trie", p, set, trie_options(a), &stats);
  fmt::print("trie:  {} masks in {:.2f} s, {:.3f} masks/s\n", n, trie.seconds, n / trie.seconds);

  // Layer passes per sequence: the naive executor runs all L layers for every mask.
  const int64_t naive_passes = n * L;
  const int64_t trie_passes = hs::sweep::trie_layer_passes(set, all_masks(set), hs::sweep::TrieOptions{}.group_masks);
  const double measured_passes = static_cast<double>(stats.layer_passes) / static_cast<double>(S);
  const double ratio = naive.seconds / trie.seconds;
  fmt::print("trie/naive: {:.2f}x throughput; layer passes per sequence {} vs {} ({:.2f}x fewer; run counted {:.0f}), "
             "{} trie groups\n",
             ratio, trie_passes, naive_passes, static_cast<double>(naive_passes) / trie_passes, measured_passes,
             stats.groups);
  fmt::print("baseline {}: naive {:.6f}, trie {:.6f}\n", primary, naive.baseline.at(primary), trie.baseline.at(primary));
  fmt::print("RESULT mode=executors masks={} examples={} naive_s={:.4f} trie_s={:.4f} naive_masks_per_s={:.4f} "
             "trie_masks_per_s={:.4f} trie_over_naive={:.3f} naive_layer_passes={} trie_layer_passes={} "
             "baseline_{}={:.6f}\n",
             n, s.data.examples.size(), naive.seconds, trie.seconds, n / naive.seconds, n / trie.seconds, ratio,
             naive_passes, trie_passes, primary, naive.baseline.at(primary));
  return 0;
}

int mode_random(const Args& a, const Setup& s) {
  const int L = s.model.n_layers(), H = s.model.n_heads();
  hs::io::SweepOptions opts;
  opts.strategies = {"random"};
  opts.strategy = "random";
  opts.sparsities = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
  opts.samples = std::max<int64_t>(1, a.masks / static_cast<int64_t>(opts.sparsities.size()));
  opts.seed = 1;
  const MaskSet set = hs::masks::make_masks(opts, L, H);
  const int64_t n = set.size();
  const double rss_before = peak_rss_mib();
  const Timed trie = run_timed("trie", s.problem, set, trie_options(a));
  const double rss = peak_rss_mib();
  fmt::print("trie: {} random masks in {:.2f} s, {:.3f} masks/s; peak RSS {:.1f} MiB ({:.1f} MiB before the sweep)\n",
             n, trie.seconds, n / trie.seconds, rss, rss_before);
  fmt::print("RESULT mode=random masks={} examples={} trie_s={:.4f} masks_per_s={:.4f} peak_rss_mib={:.1f} "
             "rss_before_mib={:.1f}\n",
             n, s.data.examples.size(), trie.seconds, n / trie.seconds, rss, rss_before);
  return 0;
}

// Gradient importance of every head (Michel's variant, 32 examples per batch) against one plain
// forward pass over the same examples, both on the run's workers.
int mode_importance(const Args& a, const Setup& s) {
  const MaskSet set = hs::masks::make_masks("baseline", s.model.n_layers(), s.model.n_heads());
  run_timed("naive", s.problem, set);  // warm-up: allocator, thread pools
  const Timed forward = run_timed("naive", s.problem, set);
  const hs::text::Tokenizer tok = hs::text::Tokenizer::from_model_dir(a.model);
  hs::sweep::ImportanceOptions opts;
  opts.method = "michel";
  const auto t0 = std::chrono::steady_clock::now();
  const hs::sweep::Importance imp =
      hs::sweep::gradient_importance(s.model, s.problem.head, *s.data.task, s.problem.inputs, s.problem.gold,
                                     at::ones({s.model.n_layers(), s.model.n_heads()}), tok.pad_id(), opts);
  const double seconds = seconds_since(t0);
  fmt::print("forward: {:.2f} s; gradient importance of all {} heads: {:.2f} s ({} examples, {} tokens); ratio {:.2f}\n",
             forward.seconds, s.model.n_layers() * s.model.n_heads(), seconds, imp.examples, imp.tokens,
             seconds / forward.seconds);
  fmt::print("RESULT mode=importance examples={} forward_s={:.4f} importance_s={:.4f} ratio={:.3f}\n",
             s.data.examples.size(), forward.seconds, seconds, seconds / forward.seconds);
  return 0;
}

int mode_forward(const Args& a, const Setup& s) {
  const MaskSet set = hs::masks::make_masks("baseline", s.model.n_layers(), s.model.n_heads());
  const double rss_before = peak_rss_mib();
  const Timed naive = run_timed("naive", s.problem, set);
  const double rss = peak_rss_mib();
  const std::string primary = s.problem.metrics.front();
  fmt::print("forward: one pass in {:.2f} s, baseline {} {:.6f}; peak RSS {:.1f} MiB ({:.1f} MiB before it)\n",
             naive.seconds, primary, naive.baseline.at(primary), rss, rss_before);
  fmt::print("RESULT mode=forward examples={} forward_s={:.4f} peak_rss_mib={:.1f} rss_before_mib={:.1f}\n",
             s.data.examples.size(), naive.seconds, rss, rss_before);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  hs::model::bound_heap_retention();
  CLI::App app{"bench_sweep: executor throughput and memory (benchmarks/run.sh turns them into ratios)"};
  Args a;
  if (const char* g = std::getenv("GLUE_DIR")) a.glue = g;
  app.add_option("--model", a.model, "Hugging Face model folder")->capture_default_str();
  app.add_option("--glue", a.glue, "GLUE data folder (default: $GLUE_DIR)");
  app.add_option("--task", a.task, "GLUE task")->capture_default_str();
  app.add_option("--limit", a.limit, "first N dev examples (0: all)")->capture_default_str();
  app.add_option("--threads", a.threads, "threads (0: every core)")->capture_default_str();
  app.add_option("--mode", a.mode, "executors | random | forward | importance")
      ->check(CLI::IsMember({"executors", "random", "forward", "importance"}))
      ->capture_default_str();
  app.add_option("--masks", a.masks, "random mode: about this many masks (M/9 per sparsity, plus the baseline)")
      ->capture_default_str();
  app.add_option("--token-budget", a.token_budget, "padded tokens per batch")->capture_default_str();
  app.add_option("--max-seq-len", a.max_seq_len, "longest input in tokens")->capture_default_str();
  app.add_option("--stack-tokens", a.stack_tokens, "trie: padded tokens of stacked chain continuations (1: none)")
      ->capture_default_str();
  app.add_option("--batches-out", a.batches_out,
                 "write the batches as JSON ([[example, slot], ...] per batch) so a comparison loop can run the "
                 "very same batches");
  CLI11_PARSE(app, argc, argv);
  try {
    if (a.glue.empty()) hs::input_error("--glue (or GLUE_DIR) is required");
    const int threads = hs::model::set_compute_threads(a.threads);
    const auto s = setup(a);
    fmt::print("{}\n", describe(a, *s, threads));
    if (!a.batches_out.empty()) write_batches(a.batches_out, s->problem);
    std::fflush(stdout);
    if (a.mode == "executors") return mode_executors(a, *s);
    if (a.mode == "random") return mode_random(a, *s);
    if (a.mode == "importance") return mode_importance(a, *s);
    return mode_forward(a, *s);
  } catch (const hs::InputError& e) {
    fmt::print(stderr, "bench_sweep: {}\n", e.what());
    return 2;
  }
}
