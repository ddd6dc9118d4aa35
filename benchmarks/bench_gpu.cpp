// bench_gpu: the GPU sweep benchmark. A BERT-base-shaped encoder with random weights made here, a
// synthetic dev set with an MNLI-like length distribution (9,815 sequences, mean ~40 tokens, max 128),
// and a single-head sweep (145 masks) through the naive and trie executors in bf16 and fp32, with
// headsweep's attention kernel and with libtorch's fused attention. Prints seconds per sweep, masks/s,
// achieved TFLOP/s against the measured GEMM peak, the sweep's FLOP floor, the gated attention kernel
// against scaled_dot_product_attention at equal shapes, and (--profile) where the GPU's time goes.
// First, without a GPU: how many batches the token budget cuts and how much they pad.
// Writes the numbers as JSON (--json). scripts/device-check.sh runs it; benchmarks/gpu_torch_loop.py
// is the PyTorch per-mask loop it is compared with.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "masks/mask_set.h"
#include "masks/strategies.h"
#include "model/bert.h"
#include "model/device.h"
#include "model/heap.h"
#include "model/threads.h"
#include "ops/cuda_ops.h"
#include "ops/gated_attn.h"
#include "ops/gelu.h"
#include "ops/head_mix.h"
#include "sweep/executor.h"
#include "sweep/inputs.h"
#include "sweep/workers.h"
#include "util/error.h"

#if defined(HEADSWEEP_TORCH_CUDA)
#include <ATen/cuda/CUDAContext.h>
#include <torch/csrc/autograd/profiler_kineto.h>
#endif

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  int64_t sequences = 9815;
  int64_t token_budget = hs::sweep::kCudaTokenBudget;  // runtime.token_budget's default on CUDA
  int naive_masks = 145;  // the naive executor may time a prefix of the masks and scale up
  int streams = 2;        // runtime.streams' default
  int64_t also_budget = 0;  // > 0: the first run timed once more with batches of up to this many tokens
  // dtype/attention of each timed sweep, in order; the first is also the one profiled.
  std::vector<std::string> runs = {"bf16/fused", "bf16/kernel", "fp32/fused", "fp32/kernel"};
  bool profile = false;
  bool tf32 = false;
  std::string json;
  std::string lengths_out;
  uint64_t seed = 0;
};

void sync() {
#if defined(HEADSWEEP_TORCH_CUDA)
  at::cuda::device_synchronize();
#endif
}

double seconds_since(Clock::time_point t0) {
  sync();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

hs::model::BertConfig bert_base() {
  hs::model::BertConfig c;
  c.vocab_size = 30522;
  c.hidden_size = 768;
  c.num_hidden_layers = 12;
  c.num_attention_heads = 12;
  c.intermediate_size = 3072;
  c.num_labels = 3;
  c.model_type = "bert";
  return c;
}

// Random weights at BERT's initializer scale (N(0, 0.02²)), LayerNorms at identity.
hs::model::BertModel random_bert(const hs::model::BertConfig& c, at::Device device, at::ScalarType dtype) {
  const int64_t C = c.hidden_size, F = c.intermediate_size;
  const auto o = at::TensorOptions().device(device).dtype(dtype);
  auto w = [&](std::vector<int64_t> shape) { return at::randn(shape, o) * 0.02; };
  auto ones = [&](int64_t n) { return at::ones({n}, o); };
  auto zeros = [&](int64_t n) { return at::zeros({n}, o); };
  hs::model::BertWeights bw;
  bw.word_emb = w({c.vocab_size, C});
  bw.pos_emb = w({c.max_position_embeddings, C});
  bw.type_emb = w({c.type_vocab_size, C});
  bw.emb_ln_w = ones(C);
  bw.emb_ln_b = zeros(C);
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    bw.layers.push_back({w({3 * C, C}), zeros(3 * C), w({C, C}), zeros(C), ones(C), zeros(C), w({F, C}), zeros(F),
                         w({C, F}), zeros(C), ones(C), zeros(C)});
  }
  bw.pooler_w = w({C, C});
  bw.pooler_b = zeros(C);
  bw.classifier_w = w({c.num_labels, C});
  bw.classifier_b = zeros(c.num_labels);
  return hs::model::BertModel(c, std::move(bw));
}

// MNLI-like premise+hypothesis lengths: log-normal around 36 tokens, clipped to [8, 128]; mean ≈ 40.
hs::sweep::ScoringInputs synthetic_inputs(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> len(std::log(36.0), 0.45);
  std::uniform_int_distribution<int32_t> token(1000, 30000);
  hs::sweep::ScoringInputs in;
  in.n_examples = n;
  for (int64_t i = 0; i < n; ++i) {
    const int T = std::clamp(static_cast<int>(std::lround(len(rng))), 8, 128);
    hs::sweep::Sequence s;
    s.ids.resize(T);
    for (int32_t& id : s.ids) id = token(rng);
    s.ids.front() = 101;
    s.ids.back() = 102;
    s.types.assign(T, 0);
    s.example = i;
    s.slot = 0;
    in.n_tokens += T;
    in.sequences.push_back(std::move(s));
  }
  return in;
}

// FLOPs the trie must do: per layer, QKV and attention once per distinct mask prefix of the layers
// before it, and the output projection and feed-forward once per distinct prefix including it.
double trie_flop_floor(const hs::masks::MaskSet& set, const hs::model::BertConfig& c,
                       const hs::sweep::ScoringInputs& in) {
  const double C = c.hidden_size, F = c.intermediate_size, tokens = static_cast<double>(in.n_tokens);
  double attn_tt = 0;  // Σ over sequences of T²
  for (const auto& s : in.sequences) attn_tt += static_cast<double>(s.ids.size()) * s.ids.size();
  const int L = set.n_layers(), H = set.n_heads();
  double flops = 0;
  for (int l = 0; l < L; ++l) {
    std::set<std::vector<uint8_t>> before, through;
    for (int64_t n = 0; n < set.size(); ++n) {
      const uint8_t* m = set.mask(n);
      before.emplace(m, m + l * H);
      through.emplace(m, m + (l + 1) * H);
    }
    flops += before.size() * (2 * tokens * 3 * C * C + 4 * attn_tt * C);
    flops += through.size() * (2 * tokens * C * C + 4 * tokens * C * F);
  }
  return flops;
}

// TFLOP/s of f, which does flop floating-point operations: three warm-up calls, then reps timed ones.
double timed_tflops(const std::function<void()>& f, double flop, int reps) {
  for (int i = 0; i < 3; ++i) f();
  const auto t0 = (sync(), Clock::now());
  for (int i = 0; i < reps; ++i) f();
  return reps * flop / seconds_since(t0) / 1e12;
}

double gemm_tflops(at::Device device, at::ScalarType dtype) {
  const int64_t n = 8192;
  const at::Tensor a = at::randn({n, n}, at::TensorOptions().device(device).dtype(dtype));
  const at::Tensor b = at::randn({n, n}, a.options());
  return timed_tflops([&] { at::matmul(a, b); }, 2.0 * n * n * n, 10);
}

struct AttnTiming {
  int B, T;
  double ours_tflops, sdpa_tflops;
  // Half the heads gated off, counted at the full model's FLOPs: what skipping them is worth (SDPA
  // would compute them all, then zero them).
  double ours_half_gated_tflops;
};

std::vector<AttnTiming> attention_vs_sdpa(at::Device device) {
  std::vector<AttnTiming> rows;
#if defined(HEADSWEEP_TORCH_CUDA)
  const int H = 12, D = 64;
  for (int T : {32, 64, 128, 256, 512}) {
    const int B = std::max(1, 65536 / T);  // 64k query tokens per call
    const auto o = at::TensorOptions().device(device).dtype(at::kBFloat16);
    const at::Tensor qkv = at::randn({B, T, 3, H, D}, o);
    const at::Tensor lens = at::full({B}, T, at::TensorOptions().device(device).dtype(at::kInt));
    const at::Tensor q = qkv.select(2, 0), k = qkv.select(2, 1), v = qkv.select(2, 2);
    // SDPA takes (B, H, T, D); the transposes are views, as they would be in a model.
    const at::Tensor qh = q.transpose(1, 2), kh = k.transpose(1, 2), vh = v.transpose(1, 2);
    const double flop = 4.0 * B * H * static_cast<double>(T) * T * D;
    const double ours = timed_tflops([&] { hs::ops::gated_attn_fwd(q, k, v, lens, {}, {}, 0.125); }, flop, 20);
    const double sdpa = timed_tflops([&] { at::scaled_dot_product_attention(qh, kh, vh); }, flop, 20);
    const at::Tensor half = (at::arange(H, at::TensorOptions().device(device)) % 2).to(at::kFloat).view({1, H});
    const double ours_half =
        timed_tflops([&] { hs::ops::gated_attn_fwd(q, k, v, lens, half, {}, 0.125); }, flop, 20);
    rows.push_back({B, T, ours, sdpa, ours_half});
  }
#endif
  return rows;
}

struct BandwidthTiming {
  std::string kernel;
  double bytes;     // that the kernel must read and write
  double ours_gbs;  // bytes over its time
};

// The element-wise kernels of a layer pass at BERT-base's width over a 32k-token batch (bf16), in
// GB/s of the bytes each must move, and a device-to-device copy timed the same way: the bandwidth
// a kernel that only streams memory gets on this card, so the ratio says how far from it each is.
std::vector<BandwidthTiming> elementwise_bandwidth(at::Device device, double* copy_gbs) {
  std::vector<BandwidthTiming> rows;
  const int64_t tokens = 32768, C = 768, F = 3072, H = 12, N = 4;
  const auto o = at::TensorOptions().device(device).dtype(at::kBFloat16);
  const at::Tensor x = at::randn({tokens, C}, o), res = at::randn({tokens, C}, o);
  const at::Tensor w = at::randn({C}, o), b = at::randn({C}, o), fb = at::randn({F}, o);
  const at::Tensor P = at::randn({H, tokens, C}, o);
  const at::Tensor gates = (at::rand({N, H}, at::TensorOptions().device(device)) > 0.3).to(at::kFloat);
  at::Tensor inter = at::randn({tokens, F}, o);
  const double e = 2;  // bytes per bf16 element
  auto gbs = [&](const std::function<void()>& f, double bytes) { return timed_tflops(f, bytes, 20) * 1e3; };
  auto row = [&](const char* kernel, double bytes, const std::function<void()>& f) {
    rows.push_back({kernel, bytes, gbs(f, bytes)});
  };
  at::Tensor copy_dst = at::empty_like(inter);
  *copy_gbs = gbs([&] { copy_dst.copy_(inter); }, 2 * e * tokens * F);
  row("residual + LayerNorm (head_mix_ln, one head)", 3 * e * tokens * C,
      [&] { hs::ops::head_mix_ln(x.unsqueeze(0), {}, b, res, w, b, 1e-12); });
  row("mixing 12 heads for 4 masks + LayerNorm (head_mix_ln)", (H + 1 + N) * e * tokens * C,
      [&] { hs::ops::head_mix_ln(P, gates, b, res, w, b, 1e-12); });
  row("bias + GELU in place (bias_gelu)", 2 * e * tokens * F, [&] { hs::ops::bias_gelu_(inter, fb, false); });
  return rows;
}

struct SweepTiming {
  std::string dtype, attention, executor;
  int streams = 1;
  int64_t token_budget = 0;
  int64_t masks_timed = 0;
  double seconds = 0, seconds_full = 0;  // seconds_full: scaled to the whole mask set
};

SweepTiming time_sweep(const std::string& executor, const hs::sweep::SweepProblem& p, const hs::masks::MaskSet& set,
                       int64_t n_masks, const std::string& dtype, const std::string& attention) {
  std::vector<int64_t> todo(std::min<int64_t>(n_masks, set.size()));
  for (size_t i = 0; i < todo.size(); ++i) todo[i] = static_cast<int64_t>(i);
  hs::sweep::Progress progress(hs::sweep::ProgressMode::None, static_cast<int64_t>(todo.size()), 1.0);
  const auto t0 = (sync(), Clock::now());
  hs::sweep::run_executor(executor, p, set, todo, [](const hs::sweep::MaskResult&) {}, progress);
  SweepTiming t{dtype, attention, executor, hs::sweep::gpu_streams(), p.token_budget,
                static_cast<int64_t>(todo.size()), seconds_since(t0), 0};
  t.seconds_full = t.seconds * static_cast<double>(set.size()) / static_cast<double>(todo.size());
  return t;
}

// GPU time by kernel over one run of f, from libtorch's profiler (Kineto/CUPTI): which kernels the
// time goes to, grouped by kind, and how busy the GPU was over the wall-clock time.
void profile(const std::string& what, const std::function<void()>& f) {
#if defined(HEADSWEEP_TORCH_CUDA)
  namespace prof = torch::autograd::profiler;
  using torch::profiler::impl::ActivityType;
  using torch::profiler::impl::ProfilerConfig;
  using torch::profiler::impl::ProfilerState;
  const ProfilerConfig config(ProfilerState::KINETO);
  const std::set<ActivityType> activities = {ActivityType::CPU, ActivityType::CUDA};
  prof::prepareProfiler(config, activities);
  prof::enableProfiler(config, activities);
  const auto t0 = (sync(), Clock::now());
  f();
  const double wall = seconds_since(t0);
  const auto result = prof::disableProfiler();
  auto kind = [](const std::string& n) -> std::string {
    auto has = [&](const char* s) { return n.find(s) != std::string::npos; };
    if (has("gated_attn")) return "attention: headsweep kernel";
    if (has("fmha") || has("flash") || has("attention") || has("Attention")) return "attention: libtorch fused";
    if (has("gemm") || has("Gemm") || has("xmma") || has("cutlass") || has("sm90_") || has("sm80_")) return "GEMM";
    if (has("head_mix")) return "head_mix_ln (residual, LayerNorm, mixing)";
    if (has("bias_gelu")) return "bias_gelu";
    if (has("Memcpy") || has("Memset")) return "memcpy/memset";
    if (has("index") || has("Index") || has("gather") || has("scatter")) return "index/gather";
    return "other elementwise/reduction";
  };
  std::map<std::string, double> by_kind, by_name;
  std::vector<std::pair<uint64_t, uint64_t>> spans;  // [start, end) ns of every GPU event
  double total = 0;
  for (const auto& e : result->events()) {
    if (e.deviceType() != c10::DeviceType::CUDA) continue;
    const double s = static_cast<double>(e.durationNs()) * 1e-9;
    by_kind[kind(e.name())] += s;
    by_name[e.name().substr(0, 90)] += s;
    total += s;
    spans.emplace_back(e.startNs(), e.endNs());
  }
  // Busy: the time at least one kernel runs. Kernels of several streams overlap, so the union of
  // their spans, not the sum of their durations.
  std::sort(spans.begin(), spans.end());
  double busy = 0;
  for (size_t i = 0; i < spans.size();) {
    uint64_t start = spans[i].first, end = spans[i].second;
    for (++i; i < spans.size() && spans[i].first <= end; ++i) end = std::max(end, spans[i].second);
    busy += static_cast<double>(end - start) * 1e-9;
  }
  fmt::print("\nprofile: {}: wall {:.3f} s, GPU busy {:.3f} s ({:.0f}%), kernel time {:.3f} s\n", what, wall, busy,
             100 * busy / wall, total);
  auto top = [](const std::map<std::string, double>& m, size_t n) {
    std::vector<std::pair<double, std::string>> v;
    for (const auto& [k, t] : m) v.push_back({t, k});
    std::sort(v.rbegin(), v.rend());
    if (v.size() > n) v.resize(n);
    return v;
  };
  // Shares of the kernel time (the sum of durations).
  for (const auto& [t, k] : top(by_kind, 16)) fmt::print("  {:>6.1f}%  {:>8.3f} s  {}\n", 100 * t / total, t, k);
  fmt::print("  top kernels:\n");
  for (const auto& [t, k] : top(by_name, 8)) fmt::print("  {:>6.1f}%  {}\n", 100 * t / total, k);
#else
  (void)f;
  fmt::print("profile: {}: needs a CUDA libtorch\n", what);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  hs::model::bound_heap_retention();
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each line as it is measured, also when the output is a file
  CLI::App app{"bench_gpu: single-head sweep of a random BERT-base on a synthetic MNLI-sized dev set"};
  Args a;
  app.add_option("--sequences", a.sequences, "dev sequences")->capture_default_str();
  app.add_option("--token-budget", a.token_budget, "padded tokens per batch")->capture_default_str();
  app.add_option("--naive-masks", a.naive_masks, "masks the naive executor runs (scaled to all 145)")
      ->capture_default_str();
  app.add_option("--streams", a.streams, "GPU streams (host threads) the batches are shared over, as runtime.streams")
      ->capture_default_str()
      ->check(CLI::Range(1, 16));
  app.add_option("--also-budget", a.also_budget,
                 "time the first run once more with batches of up to this many tokens (bigger launches or less "
                 "padding)")
      ->check(CLI::Range(int64_t{64}, int64_t{1} << 24));
  app.add_option("--runs", a.runs,
                 "sweeps to time, each DTYPE/ATTENTION: bf16 or fp32, fused (libtorch's) or kernel (headsweep's)")
      ->capture_default_str()
      ->check(CLI::IsMember({"bf16/fused", "bf16/kernel", "fp32/fused", "fp32/kernel"}));
  app.add_flag("--profile", a.profile, "profile one naive mask and a trie sweep of two batches (the first run's dtype and attention)");
  app.add_flag("--tf32", a.tf32, "let fp32 GEMMs use TF32 tensor cores");
  app.add_option("--json", a.json, "write the results here");
  app.add_option("--lengths-out", a.lengths_out, "write the batches' sequence lengths (for gpu_torch_loop.py)");
  app.add_option("--seed", a.seed, "seed of weights and data")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    const hs::sweep::ScoringInputs inputs = synthetic_inputs(a.sequences, a.seed);
    if (!a.lengths_out.empty()) {
      nlohmann::json lengths = nlohmann::json::array();
      for (const auto& s : inputs.sequences) lengths.push_back(s.ids.size());
      std::ofstream(a.lengths_out) << lengths.dump() << "\n";
    }
    fmt::print("data: {} sequences, {} tokens (mean {:.1f})\n", inputs.sequences.size(), inputs.n_tokens,
               static_cast<double>(inputs.n_tokens) / inputs.sequences.size());
    // What packing the sequences (no padding rows in the GEMMs and element-wise kernels) could save.
    for (const int64_t budget : {a.token_budget, a.also_budget}) {
      if (budget <= 0) continue;
      int64_t padded = 0;
      const std::vector<hs::sweep::Batch> cut = hs::sweep::make_batches(inputs, budget, 0);
      for (const auto& b : cut) padded += b.padded_tokens;
      fmt::print("batches of up to {} tokens: {}, {} padded tokens for {} real (+{:.1f}%)\n", budget, cut.size(),
                 padded, inputs.n_tokens, 100.0 * (padded - inputs.n_tokens) / inputs.n_tokens);
    }
    if (hs::ops::cuda_device_count() == 0) {
      fmt::print("bench_gpu: CUDA {}; nothing to measure\n", hs::model::cuda_summary());
      return 0;
    }
    c10::InferenceMode guard;
    hs::model::set_compute_threads(1);  // as headsweep run on a GPU: the streams' host threads do the work
    hs::sweep::set_gpu_streams(a.streams);
    at::globalContext().setAllowTF32CuBLAS(a.tf32);
    const at::Device device(at::kCUDA, 0);
    at::manual_seed(a.seed);
    const hs::model::BertConfig cfg = bert_base();
    const hs::masks::MaskSet set = hs::masks::make_masks("single-head", cfg.num_hidden_layers, cfg.num_attention_heads);
    const double floor_flop = trie_flop_floor(set, cfg, inputs);
    nlohmann::json out;
#if defined(HEADSWEEP_TORCH_CUDA)
    out["device"] = at::cuda::getCurrentDeviceProperties()->name;
#endif
    fmt::print("device: {}\n", out.value("device", std::string("?")));
    const double peak_bf16 = gemm_tflops(device, at::kBFloat16);
    const double peak_fp32 = gemm_tflops(device, at::kFloat);
    fmt::print("GEMM peak (8192³): bf16 {:.0f} TFLOP/s, fp32{} {:.0f} TFLOP/s\n", peak_bf16, a.tf32 ? " (TF32)" : "",
               peak_fp32);
    fmt::print("FLOP floor of the trie sweep: {:.2f} PFLOP = {:.2f} s at the bf16 peak\n", floor_flop / 1e15,
               floor_flop / (peak_bf16 * 1e12));
    out["gemm_peak_tflops"] = {{"bf16", peak_bf16}, {"fp32", peak_fp32}};
    out["flop_floor"] = floor_flop;
    out["masks"] = set.size();
    out["sequences"] = inputs.sequences.size();
    out["tokens"] = inputs.n_tokens;

    // The JSON is rewritten after every measurement, so a run cut short still leaves what it measured.
    auto save = [&] {
      if (!a.json.empty()) std::ofstream(a.json) << out.dump(2) << "\n";
    };
    save();
    out["attention"] = nlohmann::json::array();
    fmt::print("\nattention, bf16, H=12, D=64: ours vs scaled_dot_product_attention (TFLOP/s)\n");
    for (const AttnTiming& r : attention_vs_sdpa(device)) {
      fmt::print("  T={:<4} B={:<5} ours {:>7.1f}  sdpa {:>7.1f}  ratio {:.2f}  ours, half the heads gated off {:>7.1f}\n",
                 r.T, r.B, r.ours_tflops, r.sdpa_tflops, r.ours_tflops / r.sdpa_tflops, r.ours_half_gated_tflops);
      out["attention"].push_back({{"T", r.T},
                                  {"B", r.B},
                                  {"ours_tflops", r.ours_tflops},
                                  {"sdpa_tflops", r.sdpa_tflops},
                                  {"ours_half_gated_tflops", r.ours_half_gated_tflops}});
    }
    save();

    double copy_gbs = 0;
    const std::vector<BandwidthTiming> bw = elementwise_bandwidth(device, &copy_gbs);
    fmt::print("\nelement-wise kernels, bf16, 32k tokens, C=768 (F=3072): GB/s of the bytes each must move; a "
               "device copy: {:.0f} GB/s\n", copy_gbs);
    out["elementwise"] = {{"copy_gbs", copy_gbs}, {"kernels", nlohmann::json::array()}};
    for (const BandwidthTiming& r : bw) {
      fmt::print("  {:<55} {:>7.0f} GB/s  / copy {:.2f}\n", r.kernel, r.ours_gbs, r.ours_gbs / copy_gbs);
      out["elementwise"]["kernels"].push_back({{"kernel", r.kernel}, {"bytes", r.bytes}, {"gbs", r.ours_gbs}});
    }
    save();

    out["sweeps"] = nlohmann::json::array();
    fmt::print("\n{:<6} {:<7} {:<6} {:>7} {:>7} {:>8} {:>10} {:>9} {:>10} {:>8}\n", "dtype", "attn", "exec", "streams",
               "tokens", "masks", "s/sweep", "masks/s", "TFLOP/s", "x floor");
    std::fflush(stdout);
    auto report = [&](const SweepTiming& t) {
      const double peak = t.dtype == "bf16" ? peak_bf16 : peak_fp32;
      const double achieved = floor_flop / t.seconds_full / 1e12;
      fmt::print("{:<6} {:<7} {:<6} {:>7} {:>7} {:>8} {:>10.2f} {:>9.2f} {:>10.1f} {:>8.2f}\n", t.dtype, t.attention,
                 t.executor, t.streams, t.token_budget, t.masks_timed, t.seconds_full, set.size() / t.seconds_full, achieved,
                 t.seconds_full / (floor_flop / (peak * 1e12)));
      std::fflush(stdout);
      out["sweeps"].push_back({{"dtype", t.dtype}, {"attention", t.attention}, {"executor", t.executor},
                               {"streams", t.streams}, {"token_budget", t.token_budget},
                               {"masks_timed", t.masks_timed},
                               {"seconds", t.seconds}, {"seconds_per_sweep", t.seconds_full},
                               {"masks_per_s", set.size() / t.seconds_full}, {"floor_tflops", achieved}});
      save();
    };
    auto problem = [&](const hs::model::BertModel& model, const hs::sweep::ScoringInputs& inputs,
                       int64_t token_budget) {
      hs::sweep::SweepProblem p;
      p.model = &model;
      p.head.kind = hs::sweep::HeadKind::Classification;
      p.head.class_map = {0, 1, 2};
      p.inputs = inputs;
      p.batches = hs::sweep::make_batches(p.inputs, token_budget, 0);
      for (auto& b : p.batches) b.input = hs::model::to_device(b.input, device);
      p.metrics = {"accuracy"};
      p.gold.resize(inputs.n_examples);
      for (size_t i = 0; i < p.gold.size(); ++i) p.gold[i] = static_cast<double>(i % 3);
      p.token_budget = token_budget;
      return p;
    };
    // "bf16/kernel" -> {"bf16", "kernel"}
    auto split_run = [](const std::string& run) {
      const size_t slash = run.find('/');
      return std::array<std::string, 2>{run.substr(0, slash), run.substr(slash + 1)};
    };
    std::map<std::string, hs::model::BertModel> weights;  // by dtype: every run of a dtype times the same model
    for (const std::string& run : a.runs) {
      const auto [dt, att] = split_run(run);
      const at::ScalarType dtype = hs::model::dtype_named(dt);
      if (!weights.count(dt)) weights.emplace(dt, random_bert(cfg, device, dtype));
      const hs::model::BertModel model =
          weights.at(dt).to(device, dtype, hs::model::cuda_attention_named(att));
      const hs::sweep::SweepProblem p = problem(model, inputs, a.token_budget);
      time_sweep("trie", p, set, 2, dt, att);  // warm-up: cuBLAS heuristics, allocator
      report(time_sweep("trie", p, set, set.size(), dt, att));
      if (a.streams > 1 && run == a.runs.front()) {
        // What the streams are worth: the same sweep fed by one host thread.
        hs::sweep::set_gpu_streams(1);
        report(time_sweep("trie", p, set, set.size(), dt, att));
        hs::sweep::set_gpu_streams(a.streams);
      }
      if (a.also_budget > 0 && run == a.runs.front()) {
        const hs::sweep::SweepProblem other = problem(model, inputs, a.also_budget);
        time_sweep("trie", other, set, 2, dt, att);
        report(time_sweep("trie", other, set, set.size(), dt, att));
      }
      report(time_sweep("naive", p, set, a.naive_masks, dt, att));
    }
    weights.clear();

    if (a.profile) {
      // Named copies: the lambdas below capture them, which C++17 does not allow for structured bindings.
      const std::array<std::string, 2> first = split_run(a.runs.front());
      const std::string dt = first[0], att = first[1];
      const at::ScalarType dtype = hs::model::dtype_named(dt);
      const hs::model::BertModel model =
          random_bert(cfg, device, dtype).to(device, dtype, hs::model::cuda_attention_named(att));
      const hs::sweep::SweepProblem whole = problem(model, inputs, a.token_budget);
      profile(fmt::format("naive, 1 mask, {} sequences, {}, {} attention", inputs.sequences.size(), dt, att),
              [&] { time_sweep("naive", whole, set, 1, dt, att); });
      // The trie over a sixth of the data (same length distribution) keeps the profile short.
      const hs::sweep::ScoringInputs part = synthetic_inputs(a.sequences / 6, a.seed + 1);
      const hs::sweep::SweepProblem sixth = problem(model, part, a.token_budget);
      profile(fmt::format("trie, 145 masks, {} sequences, {}, {} attention", part.sequences.size(), dt, att),
              [&] { time_sweep("trie", sixth, set, set.size(), dt, att); });
    }
  } catch (const hs::InputError& e) {
    fmt::print(stderr, "bench_gpu: {}\n", e.what());
    return 2;
  }
  return 0;
}
