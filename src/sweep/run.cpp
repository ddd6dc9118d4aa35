#include "sweep/run.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <optional>

#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "data/glue_tasks.h"
#include "io/h5_read.h"
#include "io/results.h"
#include "io/results_file.h"
#include "io/results_identity.h"
#include "sweep/group_store.h"
#include "masks/strategies.h"
#include "model/bert.h"
#include "model/device.h"
#include "model/model_dir.h"
#include "model/threads.h"
#include "model/safetensors.h"
#include "ops/gated_attn.h"
#include "ops/head_mix.h"
#include "sweep/executor.h"
#include "sweep/attention_stats.h"
#include "sweep/importance.h"
#include "sweep/importance_store.h"
#include "sweep/run_analyses.h"
#include "sweep/sample_rows.h"
#include "sweep/sweep_stats.h"
#include "sweep/workers.h"
#include "text/token_classes.h"
#include "text/tokenizer.h"
#include "util/error.h"

namespace hs::sweep {
namespace {

// The folder name identifies the checkpoint as the user knows it; config.json's _name_or_path
// often names the model it was fine-tuned from instead (all-MiniLM-L6-v2 says MiniLM-L6-H384-uncased).
std::string model_id(const model::ModelDir& dir) {
  std::string p = dir.path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p.substr(p.find_last_of('/') + 1);
}

// What an existing results file at the output path holds, once it is known to be this sweep's.
struct ExistingFile {
  std::vector<uint8_t> done;  // (N)
  bool complete = false;
  std::map<std::string, std::vector<double>> scores;  // metric -> (N)
  std::vector<std::vector<float>> predictions;         // (N) rows of (B); empty where not done
  std::vector<io::HeadImportance> importance;
  std::vector<io::HeadStatistic> attention;
  std::string device_name;  // of the run that began the file
  std::optional<io::BootstrapColumns> bootstrap;  // the primary metric's, when the file has it
};

// The whole sweep's analyses into the summary.
void take_stats(RunSummary& s, SweepStats st, const io::Plan& plan) {
  s.bootstrap = std::move(st.bootstrap);
  s.confidence = plan.stats.confidence;
  s.ablation = std::move(st.ablation.drops);
  s.agreement = std::move(st.ablation.agreement);
  s.pruning = std::move(st.pruning);
  s.pruning_tolerance = plan.pruning.tolerance;
  s.pruning_alpha = plan.pruning.alpha;
}

std::string where_in_sweep(int index, int count) {
  return count > 0 ? fmt::format("shard {} of {}", index, count) : std::string("the whole sweep");
}

// Runs `read` on the existing results file at `path`; a failure that is not already an InputError
// means the file is damaged (a missing or misshapen piece), which is the user's to clear.
template <typename Read>
void read_or_damaged(const std::string& path, Read&& read) {
  try {
    read();
  } catch (const InputError&) {
    throw;
  } catch (const std::runtime_error& e) {
    hs::input_error("{} exists but is damaged ({}); delete it or set output.overwrite: true", path, e.what());
  }
}

// Opens the file at `path` and checks that it belongs to the run described by `run` and `header`;
// an InputError saying what differs otherwise. With compare_masks false, everything but the masks
// is compared: what a run can check before the pruning curves (and the importance they need) give
// it the whole mask set.
io::ResultsFile open_existing(const std::string& path, io::SweepIdentity run, const io::ResultsHeader& header,
                              bool compare_masks) {
  std::optional<io::ResultsFile> file;
  try {
    file.emplace(io::ResultsFile::open(path));
  } catch (const InputError& e) {
    std::string reason = e.what();
    if (reason.rfind(path + ": ", 0) == 0) reason = reason.substr(path.size() + 2);
    if (io::held_by_writer(path)) io::refuse_held_by_writer(path);
    // output.overwrite replaces results files only (io/results.h), so for another kind of file the
    // way out is to move it.
    hs::input_error("{} exists but is not a readable results file ({}); {}", path, reason,
                    io::is_hdf5_file(path) ? "delete it or set output.overwrite: true"
                                           : "delete it or choose another output.path");
  }
  io::SweepIdentity found;
  read_or_damaged(path, [&] { found = io::read_identity(*file); });
  if (!compare_masks) {
    run.masks = found.masks;
    run.mask_names = found.mask_names;
  }
  const std::string diff = io::identity_difference(found, run, "in the file", "now");
  if (!diff.empty()) hs::input_error("{} {}; use another output.path or output.overwrite: true", path, diff);
  const io::ResultsHeader& fh = file->info().header;
  if (fh.shard_count != header.shard_count || fh.shard_index != header.shard_index)
    hs::input_error("{} holds {}, this run is {}; use another output.path, or --output", path,
                    where_in_sweep(fh.shard_index, fh.shard_count), where_in_sweep(header.shard_index, header.shard_count));
  return std::move(*file);
}

ExistingFile check_existing(const std::string& path, const io::SweepIdentity& run, const io::ResultsHeader& header) {
  const io::ResultsFile file = open_existing(path, run, header, /*compare_masks=*/true);
  ExistingFile out;
  read_or_damaged(path, [&] {
    out.done = file.masks_done();
    for (const std::string& m : file.info().header.metrics) out.scores[m] = file.scores(m);
    out.importance = file.info().header.importance;
    out.attention = file.info().header.attention;
    out.bootstrap = file.bootstrap(file.info().header.metrics.front());
    out.predictions.resize(out.done.size());
    for (size_t n = 0; n < out.done.size(); ++n)
      if (out.done[n]) out.predictions[n] = file.predictions(static_cast<int64_t>(n));
  });
  const io::ResultsHeader& fh = file.info().header;
  out.complete = file.info().complete;
  out.device_name = fh.device_name;
  return out;
}

}  // namespace

std::string output_path(const io::Plan& plan, const RunOptions& options) {
  if (!options.output.empty()) return options.output;
  return options.shard.sharded() ? shard_path(plan.output.path, options.shard) : plan.output.path;
}

std::string out_of_device_memory(const std::string& device, int64_t token_budget, int streams,
                                 const std::string& what) {
  // libtorch's message goes on about its allocator's settings; its first three sentences say what
  // failed, how much was asked for and how much was free.
  std::string first = what.substr(0, what.find('\n'));
  size_t from = 0;
  for (int sentence = 0; sentence < 3; ++sentence) {
    const size_t dot = first.find(". ", from);
    if (dot == std::string::npos) break;
    if (sentence == 2) first.resize(dot);
    from = dot + 2;
  }
  return fmt::format("out of memory on {} during the sweep ({}): each of runtime.streams = {} host threads "
                     "holds a batch of up to runtime.token_budget = {} padded tokens; lower either, and run "
                     "again to resume (the masks scored so far are kept)",
                     device, first, streams, token_budget);
}

namespace {

// The checks that depend on the kind of device the sweep runs on, not on which devices a machine has.
void check_options_for(const io::Plan& plan, bool on_cpu) {
  if (on_cpu && plan.runtime.dtype != "fp32") {
    plan.where.fail("runtime.dtype", "{}, but the sweep runs on the CPU (runtime.device {}), which runs fp32 only",
                    plan.runtime.dtype, plan.runtime.device);
  }
  if (on_cpu && plan.runtime.attention != "auto") {
    plan.where.fail("runtime.attention",
                    "{}, but the sweep runs on the CPU (runtime.device {}), which runs libtorch's composite "
                    "attention only",
                    plan.runtime.attention, plan.runtime.device);
  }
  check_pruning_options(plan);
}

// The log line for the GPUs runtime.device `auto` passed over (model::resolve_device's note), the
// same from run and validate; "" when it passed over none.
std::string passed_over_line(const io::Plan& plan, const std::string& passed_over) {
  return passed_over.empty() ? "" : fmt::format("runtime.device {}: {}", plan.runtime.device, passed_over);
}

void check_positions(const io::Plan& plan, const model::ModelDir& dir) {
  if (plan.task.max_seq_len > dir.config.max_position_embeddings) {
    plan.where.fail("task.max_seq_len", "{} exceeds the model's max_position_embeddings {} ({}/config.json)",
                    plan.task.max_seq_len, dir.config.max_position_embeddings, dir.path);
  }
}

}  // namespace

c10::Device check_run_options(const io::Plan& plan) {
  std::string passed_over;
  const c10::Device device = [&] {
    try {
      return model::resolve_device(plan.runtime.device, &passed_over);
    } catch (const InputError& e) {
      plan.where.fail("runtime.device", "{}", e.what());
    }
  }();
  if (!passed_over.empty()) fmt::print(stderr, "headsweep: {}\n", passed_over_line(plan, passed_over));
  check_options_for(plan, device.is_cpu());
  return device;
}

std::vector<std::string> check_config_options(const io::Plan& plan) {
  std::vector<std::string> notes;
  bool on_cpu = plan.runtime.device == "cpu";  // cuda and cuda:N name CUDA, whether this machine has it or not
  try {
    std::string passed_over;
    on_cpu = model::resolve_device(plan.runtime.device, &passed_over).is_cpu();
    if (!passed_over.empty()) notes.push_back(passed_over_line(plan, passed_over));
  } catch (const InputError& e) {  // only cuda and cuda:N: auto falls back to the CPU
    notes.push_back(fmt::format("runtime.device: {} (on this machine; the config itself is valid)", e.what()));
  }
  check_options_for(plan, on_cpu);
  // What the model folder's config.json decides, checked as a run checks it before reading any data.
  const model::ModelDir dir = model::inspect_model_dir(plan.model.path);
  check_model_options(plan, on_cpu ? c10::Device(c10::kCPU) : c10::Device(c10::kCUDA, 0), dir.config, dir.path);
  check_positions(plan, dir);
  masks::make_masks(plan.sweep, dir.config.num_hidden_layers, dir.config.num_attention_heads, plan.where);
  const bool ablation_pending = check_pruning_for_model(plan, data::find_task(plan.task.name), "",
                                                       dir.config.num_hidden_layers, dir.config.num_attention_heads,
                                                       /*file_may_be_missing=*/true);
  if (ablation_pending)
    notes.push_back(fmt::format("{}: {} does not exist yet; a run needs it (the config itself is valid)",
                                plan.where("pruning.ablation_from"), plan.pruning.ablation_from));
  // Whether the checkpoint can score the task, and model.labels against its classifier.
  resolve_head(dir, data::find_task(plan.task.name), plan.model.head, plan.model.pooling, plan.where,
               plan.model.labels);
  return notes;
}

void check_model_options(const io::Plan& plan, const c10::Device& device, const model::BertConfig& config,
                         const std::string& model_path) {
  if (!device.is_cuda()) return;
  const int64_t C = config.hidden_size, H = config.num_attention_heads;
  if (!ops::head_mix_kernel_takes(C, H)) {
    plan.where.fail("runtime.device",
                    "{}, but the model has C = {} and H = {} ({}/config.json), and headsweep's CUDA kernels "
                    "take C up to {} and H up to {}; use cpu",
                    plan.runtime.device, C, H, model_path, ops::kMixKernelMaxC, ops::kMixKernelMaxHeads);
  }
  if (plan.runtime.attention == "kernel" && !ops::gated_attn_kernel_takes_head_dim(config.head_dim())) {
    plan.where.fail("runtime.attention",
                    "kernel, but the model's heads have D = {} ({}/config.json: hidden_size / "
                    "num_attention_heads), and headsweep's attention kernel is compiled for D = {} only; "
                    "use fused or auto",
                    config.head_dim(), model_path, fmt::join(ops::kAttnKernelHeadDims, ", "));
  }
}

RunSummary run_plan(const io::Plan& plan, const RunOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  {
    const std::string out = output_path(plan, options);
    io::check_output_is_not_read(plan, out);
    io::refuse_special_file(out);  // before anything opens it to resume it
  }
  const c10::Device device = check_run_options(plan);
  const model::ModelDir dir = model::inspect_model_dir(plan.model.path);
  check_model_options(plan, device, dir.config, dir.path);
  const data::TaskSpec& task = data::find_task(plan.task.name);
  const HeadSpec head = resolve_head(dir, task, plan.model.head, plan.model.pooling, plan.where, plan.model.labels);
  const data::Dataset dataset = load_rows(task, plan.task.data_dir, plan.task.split, plan.task.limit,
                                          plan.task.sample, static_cast<uint64_t>(plan.runtime.seed));
  if (dataset.examples.empty()) hs::input_error("{}: no examples to score", dataset.path);
  check_positions(plan, dir);
  const text::Tokenizer tok = text::Tokenizer::from_model_dir(dir.path);
  // A token id past the embedding table would fail deep inside the forward pass.
  if (static_cast<int64_t>(tok.vocab_size()) > dir.config.vocab_size) {
    hs::input_error("{}/vocab.txt: {} entries, but config.json's vocab_size is {}: token ids past it have no embedding",
                    dir.path, tok.vocab_size(), dir.config.vocab_size);
  }
  const int L = dir.config.num_hidden_layers, H = dir.config.num_attention_heads;
  masks::MaskSet mask_set = masks::make_masks(plan.sweep, L, H, plan.where);
  const std::string model_sha256 = model::sha256_file(dir.weights_path);
  check_pruning_for_model(plan, task, model_sha256, L, H);

  std::vector<double> gold;
  std::vector<int64_t> rows;
  for (const data::Example& ex : dataset.examples) {
    gold.push_back(ex.label);
    rows.push_back(ex.row);
  }

  io::ResultsHeader header;
  header.tool_version = HEADSWEEP_VERSION;
  {
    // runtime.device as where the sweep runs (model/device.h): `auto` on a GPU node and `cuda` are
    // one sweep, `auto` on a CPU-only node another, and `cuda:1` resumes a file that `cuda:0` began.
    io::Plan stored = plan;
    stored.runtime.device = model::device_kind(device);
    header.config_yaml = io::dump_config(stored);
  }
  header.device_name = model::device_name(device);
  header.model_path = dir.path;
  header.model_id = model_id(dir);
  header.model_sha256 = model_sha256;
  ScoringInputs inputs = build_inputs(dataset, tok, head, plan.task.max_seq_len);
  header.inputs_sha256 = inputs_sha256(inputs, head);
  header.task = task.name;
  header.split = plan.task.split;
  // Pruning curves add their masks to the strategies'.
  const std::string strategy =
      plan.sweep.strategy + (plan.pruning.schedule != "none" ? "+prune-" + plan.pruning.schedule : "");
  header.strategy = strategy;
  header.n_layers = L;
  header.n_heads = H;
  header.metrics = task.metrics;
  header.bootstrap_resamples = plan.stats.bootstrap;
  header.bootstrap_confidence = plan.stats.confidence;
  header.bootstrap_seed = plan.runtime.seed;
  const Shard& shard = options.shard;
  if (shard.sharded()) {
    header.shard_index = shard.index;
    header.shard_count = shard.count;
  }
  const std::string path = output_path(plan, options);
  std::error_code ec;
  const bool resume = !plan.output.overwrite && std::filesystem::exists(path, ec);
  io::SweepIdentity run_id;
  run_id.tool_version = header.tool_version;
  run_id.config_yaml = header.config_yaml;
  run_id.model_sha256 = header.model_sha256;
  run_id.inputs_sha256 = header.inputs_sha256;
  run_id.n_layers = L;
  run_id.n_heads = H;
  run_id.metrics = header.metrics;
  run_id.labels = gold;
  run_id.rows = rows;
  // A file from another sweep is refused before the importance and the pruning curves are computed,
  // which can take longer than the sweep; their masks are compared once they are known.
  if (resume && (plan.importance.method != "none" || plan.pruning.schedule != "none"))
    open_existing(path, run_id, header, /*compare_masks=*/false);

  // Weights are loaded (and every tensor checked) before the results file is created or reopened,
  // so a broken checkpoint leaves no file behind and changes none. Gradient importance and pruning
  // curves come first: the curves' masks belong to the sweep (and to its identity on resume).
  const model::BertModel model = model::BertModel::load(dir);
  // The sweep runs on runtime.device in runtime.dtype. Gradient importance and attention statistics
  // run on the same device in float32, through the libtorch composites (the path checked against
  // Hugging Face): gradients and small attention masses want float32, and autograd needs the
  // composites, since headsweep's CUDA kernels have no backward.
  const at::ScalarType sweep_dtype = model::dtype_named(plan.runtime.dtype);
  const model::CudaAttention cuda_attention = model::cuda_attention_named(plan.runtime.attention);
  const model::BertModel device_model = device.is_cpu() ? model : model.to(device, sweep_dtype, cuda_attention);
  const model::BertModel analysis_model = device.is_cpu() || sweep_dtype == at::kFloat
                                              ? device_model
                                              : model.to(device, at::kFloat, cuda_attention);
  const int cpu_threads = model::compute_threads();
  if (!device.is_cpu()) {
    // The GPU's host threads are the streams' workers (sweep/workers.h); the CPU ops between
    // launches are tiny, so each takes one intra-op thread, until the sweep is done.
    model::set_compute_threads(1);
    set_gpu_streams(plan.runtime.streams);
  }
  std::optional<ImportanceSource> importance_source;
  std::optional<ImportanceStore> importance_store;  // until the run has finished
  std::optional<io::HeadImportance> importance;
  if (plan.importance.method != "none") {
    importance_source.emplace(plan, task, analysis_model, head, tok);
    importance_store.emplace(path + ".importance",
                             fmt::format("{} {} {}", model_sha256, io::config_sha256(header.config_yaml),
                                         importance_source->data_sha256()),
                             /*fresh=*/plan.output.overwrite);
    importance_source->keep_in(&*importance_store);
    const std::vector<uint8_t> full(static_cast<size_t>(L) * H, 1);
    fmt::print(stderr, "headsweep: {} importance on {} {} ({} examples{}){}\n", plan.importance.method, task.name,
               importance_source->split(), importance_source->examples(),
               device.is_cpu() ? "" : ", on " + device.str() + " in float32", importance_source->kept_note(full));
    importance = importance_source->at(full);
  }
  const std::vector<io::PruningRecord> curves =
      pruning_curves(plan, task, model_sha256, mask_set, importance ? &*importance : nullptr,
                     importance_source ? &*importance_source : nullptr);
  header.ablation = has_single_head_masks(mask_set.data(), L, H) && baseline_index(mask_set.data(), L, H) >= 0;
  header.pruning = curves;
  header.pruning_schedule = plan.pruning.schedule;
  header.pruning_tolerance = plan.pruning.tolerance;
  header.pruning_alpha = plan.pruning.alpha;

  RunSummary s;
  s.n_layers = L;
  s.n_heads = H;
  s.output_path = path;
  s.model_id = header.model_id;
  s.task = task.name;
  s.split = plan.task.split;
  s.strategy = strategy;
  s.head = head_kind_name(head.kind);
  s.n_examples = static_cast<int64_t>(dataset.examples.size());
  s.n_masks = mask_set.size();
  s.metrics = task.metrics;
  s.mask_names = mask_set.names();
  s.scores.resize(mask_set.size());
  s.shard = shard;

  // The masks this file is for, and those of them still to score.
  std::vector<int64_t> owned(mask_set.size());
  std::iota(owned.begin(), owned.end(), 0);
  if (shard.sharded()) owned = shard_masks(mask_set.data(), L, H, shard);
  s.n_owned = static_cast<int64_t>(owned.size());
  std::vector<uint8_t> done(mask_set.size(), 0);
  // Every mask's predictions, for the bootstrap at the end (kept only when it will run).
  const bool intervals = plan.stats.bootstrap > 0 && !shard.sharded();
  std::vector<std::vector<float>> predictions(intervals ? mask_set.size() : 0);

  std::string begun_on;
  if (resume) {
    run_id.masks = mask_set.data();
    run_id.mask_names = mask_set.names();
    const ExistingFile existing = check_existing(path, run_id, header);
    // The file names the device that began it; a log that mixes two says so.
    if (!existing.device_name.empty() && existing.device_name != header.device_name)
      begun_on = fmt::format("; it was begun on {}, this run is on {}", existing.device_name, header.device_name);
    done = existing.done;
    done.resize(mask_set.size(), 0);
    for (int64_t n : owned) {
      if (!done[n]) continue;
      ++s.n_resumed;
      for (const auto& [metric, values] : existing.scores) s.scores[n][metric] = values[n];
      if (intervals) predictions[n] = existing.predictions[n];
    }
    header.importance = existing.importance;
    header.attention = existing.attention;
    if (existing.complete && s.n_resumed != static_cast<int64_t>(owned.size())) {
      // Only a write of the flag by hand, or a damaged file, marks complete with work missing.
      hs::input_error("{} exists but is damaged (marked complete, but {} of this run's {} masks are not scored in it); "
                      "delete it or set output.overwrite: true",
                      path, static_cast<int64_t>(owned.size()) - s.n_resumed, owned.size());
    }
    if (existing.complete) {
      s.already_complete = true;
      // The summary of the finished run, from the file: its intervals, importance, attention
      // statistics, ablation agreement and pruning curves.
      s.importance = header.importance;
      s.attention = header.attention;
      if (!shard.sharded()) {
        take_stats(s, summary_stats(header, mask_set.data(), s.scores, existing.bootstrap), plan);
      }
      if (importance_store) importance_store->remove();
      model::set_compute_threads(cpu_threads);
      s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      return s;
    }
  }
  std::vector<int64_t> todo;
  for (int64_t n : owned)
    if (!done[n]) todo.push_back(n);
  if (shard.sharded())
    fmt::print(stderr, "headsweep: shard {} of {} ({}): {} of {} masks\n", shard.index, shard.count, shard.source,
               owned.size(), mask_set.size());
  if (resume)
    fmt::print(stderr, "headsweep: resuming {}: {} of {} masks already scored, {} to go{}\n", path, s.n_resumed,
               owned.size(), todo.size(), begun_on);

  SweepProblem problem;
  problem.model = &model;
  problem.head = head;
  problem.inputs = std::move(inputs);
  // A GPU wants batches as large as the budget allows: no cutting for workers there.
  auto batches_for = [&](bool cuda) {
    const int64_t budget = device_token_budget(plan.runtime.token_budget, cuda);
    return make_batches(problem.inputs,
                        worker_token_budget(budget, problem.inputs.n_tokens, cuda ? 1 : model::compute_threads()),
                        tok.pad_id());
  };
  const int64_t token_budget = device_token_budget(plan.runtime.token_budget, !device.is_cpu());
  problem.batches = batches_for(!device.is_cpu());
  problem.metrics = task.metrics;
  problem.gold = gold;
  problem.token_budget = token_budget;

  // Analyses of the full model go into the file when it is created; a resumed file has them.
  if (importance && !resume) header.importance.push_back(*importance);
  if (plan.attention.statistics && !resume) {
    // In the CPU's batches even when the sweep's are a GPU's: the statistics hold every layer's
    // (B, H, T, T) probabilities of a batch at once.
    const AttentionStatistics a = attention_statistics(analysis_model, device.is_cpu() ? problem.batches : batches_for(false),
                                                       text::punctuation_token_table(tok), tok.cls_id(), tok.sep_id());
    for (const AttentionStatistic& st : a.stats) {
      const at::Tensor v = st.values.contiguous();
      header.attention.push_back({st.name, st.description, {v.data_ptr<double>(), v.data_ptr<double>() + v.numel()}});
    }
    header.attention_tokens = a.tokens;
  }
  s.importance = header.importance;
  s.attention = header.attention;

  if (!device.is_cpu()) {
    problem.model = &device_model;
    for (Batch& b : problem.batches) b.input = model::to_device(b.input, device);
    fmt::print(stderr, "headsweep: sweeping on {} {} ({}, {} attention, batches of up to {} tokens)\n", device.str(),
               header.device_name,
               plan.runtime.dtype,
               device_model.cuda_attention() == model::CudaAttention::Kernel ? "headsweep's kernel" : "fused",
               token_budget);
  }

  // masks_done is committed (two fsyncs) at most once a second: every mask on the CPU, where one
  // takes longer, and in bursts when an executor reports many masks at once.
  constexpr double kCommitIntervalS = 1.0;
  io::WriterOptions writer_options;
  writer_options.overwrite = plan.output.overwrite;
  writer_options.rows_to_write = owned;
  writer_options.commit_interval_s = kCommitIntervalS;
  io::ResultsWriter writer = resume ? io::ResultsWriter::reopen(path, kCommitIntervalS)
                                    : io::ResultsWriter::create(path, header, mask_set.data(), mask_set.names(), gold,
                                                                rows, writer_options);

  // The trie keeps a group's outputs beside the results file while the group runs, so that a killed
  // run resumes the group at its unfinished batches (sweep/group_store.h). The key ties the file to
  // this sweep; a run that starts its results file afresh drops any left by another.
  FileGroupStore group_store(path + ".group", fmt::format("{} {} {} {}", header.model_sha256, header.inputs_sha256,
                                                          io::config_sha256(header.config_yaml), path));
  if (!resume) group_store.discard();
  problem.group_store = &group_store;

  Progress progress(progress_mode(plan.runtime.progress), static_cast<int64_t>(todo.size()),
                    total_work(plan.runtime.executor, problem, mask_set, todo));
  try {
    run_executor(plan.runtime.executor, problem, mask_set, todo, [&](const MaskResult& r) {
      writer.write_mask(r.mask, r.scores, r.predictions);
      if (r.burst_end) writer.commit();
      s.scores[r.mask] = r.scores;
      if (intervals) predictions[r.mask] = r.predictions;
      ++s.n_scored;
    }, progress);
  } catch (const c10::OutOfMemoryError& e) {
    if (device.is_cpu()) throw;
    throw InputError(out_of_device_memory(device.str(), token_budget, plan.runtime.streams, e.what_without_backtrace()));
  }
  progress.finish();
  writer.commit();  // every scored mask is on disk before the bootstrap and analyses, which can take long
  model::set_compute_threads(cpu_threads);  // the bootstrap below runs on the CPU, on every thread
  // A shard lacks the other shards' masks: `headsweep merge` computes these for it.
  if (!shard.sharded()) {
    take_stats(s, write_sweep_stats(writer, header, mask_set.data(), predictions, s.scores, gold), plan);
  }
  writer.finish();
  if (importance_store) importance_store->remove();
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

}  // namespace hs::sweep
