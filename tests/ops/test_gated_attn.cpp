// ops::gated_attn_fwd: the libtorch composite against plain loops, and the CUDA kernels (all three
// storage types; for fp16/bf16 both the tensor-core kernel and, on rows it cannot load 16 bytes at a
// time, the SIMT one) against the composite in fp64. Kernel cases skip where there is no CUDA device
// and run everywhere under the emulator (test_ops_emu).
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include <ATen/ATen.h>

#include "kernel_harness.h"
#include "test_env.h"
#include "loop_reference.h"
#include "ops/gated_attn.h"

namespace {

at::Tensor int_tensor(const std::vector<int>& v) {
  return at::from_blob(const_cast<int*>(v.data()), {static_cast<int64_t>(v.size())}, at::kInt).clone();
}

enum class Gates { AllOne, AllZero, SingleHead, RandomRows };

struct Case {
  int B, T, H, D;
  Gates gates;
};

struct Inputs {
  at::Tensor qkv;            // (B, T, 3, H, D) fp64
  std::vector<int> key_lens; // (B)
  at::Tensor gates;          // (G, H) float32 or undefined
  std::vector<int> gate_row; // (B) or empty
};

Inputs make_inputs(const Case& c, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Inputs in;
  in.qkv = at::randn({c.B, c.T, 3, c.H, c.D}, at::kDouble);
  std::uniform_int_distribution<int> len(1, c.T);
  for (int b = 0; b < c.B; ++b) in.key_lens.push_back(b == 0 ? c.T : len(rng));  // one full row, the rest ragged
  const int G = 5;  // gate rows: not a multiple of anything the kernel tiles by
  switch (c.gates) {
    case Gates::AllOne: break;
    case Gates::AllZero: in.gates = at::zeros({1, c.H}); break;
    case Gates::SingleHead:
      in.gates = at::zeros({1, c.H});
      in.gates[0][c.H - 1] = 1.0f;
      break;
    case Gates::RandomRows: {
      in.gates = (at::rand({G, c.H}) > 0.5).to(at::kFloat);
      in.gates[0][0] = 0.5f;  // a real-valued gate, as gradients use
      std::uniform_int_distribution<int> row(0, G - 1);
      for (int b = 0; b < c.B; ++b) in.gate_row.push_back(row(rng));
      break;
    }
  }
  return in;
}

at::Tensor reference(const Inputs& in, const at::Tensor& qkv, double scale) {
  return hs::ops::gated_attn_fwd_cpu(qkv.select(2, 0), qkv.select(2, 1), qkv.select(2, 2), int_tensor(in.key_lens),
                                     in.gates, in.gate_row.empty() ? at::Tensor() : int_tensor(in.gate_row), scale);
}

}  // namespace

CATCH_TEST_CASE("gated attention composite equals plain loops", "[ops]") {
  const Case c = GENERATE(Case{3, 1, 1, 32, Gates::AllOne}, Case{3, 7, 9, 32, Gates::RandomRows},
                          Case{2, 13, 12, 64, Gates::SingleHead}, Case{2, 9, 4, 128, Gates::AllZero});
  CATCH_CAPTURE(c.B, c.T, c.H, c.D, static_cast<int>(c.gates));
  at::manual_seed(1);
  const Inputs in = make_inputs(c, 11);
  const double scale = 1.0 / std::sqrt(static_cast<double>(c.D));
  const at::Tensor got = reference(in, in.qkv, scale);
  const at::Tensor want = hs::test::gated_attn_loops(in.qkv.select(2, 0).contiguous(), in.qkv.select(2, 1).contiguous(),
                                                     in.qkv.select(2, 2).contiguous(), in.key_lens, in.gates,
                                                     in.gate_row, scale);
  CATCH_CHECK((got - want).abs().max().item<double>() < 1e-12);
}

CATCH_TEST_CASE("gated attention composite rejects mismatched arguments", "[ops]") {
  const at::Tensor q = at::randn({2, 4, 3, 32});
  const at::Tensor lens = at::full({2}, 4, at::kInt);
  CATCH_CHECK_THROWS_WITH(hs::ops::gated_attn_fwd(q, q, q, at::full({3}, 4, at::kInt), {}, {}, 1.0),
                          Catch::Contains("key_lens must have size 2"));
  CATCH_CHECK_THROWS_WITH(hs::ops::gated_attn_fwd(q, q, q, lens, at::ones({1, 4}), {}, 1.0),
                          Catch::Contains("gates must have size 3"));
  CATCH_CHECK_THROWS_WITH(hs::ops::gated_attn_fwd(q, q, q, lens.to(at::kLong), {}, {}, 1.0),
                          Catch::Contains("key_lens must be Int"));
  CATCH_CHECK_THROWS_WITH(hs::ops::gated_attn_fwd(q, q, q, lens, at::ones({2, 3}), int_tensor({0, 2}), 1.0),
                          Catch::Contains("gate_row must index gates' 2 rows, got values in [0, 2]"));
  CATCH_CHECK_THROWS_WITH(hs::ops::gated_attn_fwd(q, q, q, lens, at::ones({2, 3}), int_tensor({-1, 1}), 1.0),
                          Catch::Contains("got values in [-1, 1]"));
}

CATCH_TEST_CASE("gated attention composite clamps key lengths to [0, T]", "[ops]") {
  const at::Tensor q = at::randn({3, 5, 2, 32}, at::kDouble), k = at::randn_like(q), v = at::randn_like(q);
  const at::Tensor got = hs::ops::gated_attn_fwd(q, k, v, int_tensor({9, -3, 2}), {}, {}, 0.2);
  const at::Tensor want = hs::ops::gated_attn_fwd(q, k, v, int_tensor({5, 0, 2}), {}, {}, 0.2);
  CATCH_CHECK(at::equal(got, want));
  CATCH_CHECK(at::equal(got[1], at::zeros_like(got[1])));
}

#ifdef HEADSWEEP_HAS_CUDA
#include "gated_attn_fwd.h"

namespace {

// Params for a fused (tokens, 3, H, D) QKV buffer starting at qkv, written to a (tokens, H, D) output;
// the caller sets the layout (key_lens or cu_seqlens) and any gates.
hs::gpu::GatedAttnParams fused_qkv_params(void* qkv, void* out, int B, int T, int H, int D, int64_t elt,
                                          hs::gpu::DType dtype) {
  hs::gpu::GatedAttnParams p;
  char* base = static_cast<char*>(qkv);
  p.q = base;
  p.k = base + H * D * elt;
  p.v = base + 2 * H * D * elt;
  p.q_row_stride = p.k_row_stride = p.v_row_stride = 3LL * H * D;
  p.out = out;
  p.out_row_stride = static_cast<int64_t>(H) * D;
  p.B = B;
  p.H = H;
  p.D = D;
  p.max_seqlen = T;
  p.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D)));
  p.dtype = dtype;
  return p;
}

}  // namespace

// Tolerance |kernel - ref| <= atol + rtol·|ref|, ref computed in fp64 from the inputs rounded to the
// storage type, so only the kernel's fp32 arithmetic and its output rounding are measured.
CATCH_TEST_CASE("gated attention kernel matches the fp64 composite", "[cuda]") {
  if (!hs::test::kernels_runnable()) HS_SKIP_WITHOUT_DEVICE();
  const hs::test::DTypeCase dt = GENERATE(Catch::Generators::from_range(hs::test::dtype_cases()));
  // 29 and 61: the tensor-core kernel's blocks of two and four warps (one key tile); 97 and up: its
  // blocks of eight warps (D ≤ 64; four at D = 128) over several tiles.
  const int T = GENERATE(1, 7, 29, 61, 97, 129, 512);
  const int H = GENERATE(1, 9, 12, 16);
  const int D = GENERATE(32, 64, 128);
  const Gates gk = GENERATE(Gates::AllOne, Gates::AllZero, Gates::SingleHead, Gates::RandomRows);
  const bool packed = GENERATE(false, true);
  // Q, K and V one element past a 16-byte boundary: fp16/bf16 take the SIMT kernel (fp32 always does).
  const bool misaligned = GENERATE(false, true);
  if (misaligned && (dt.kernel == hs::gpu::DType::F32 || T == 1 || T == 512 || H == 9 || H == 16)) return;
  if (T == 512 && H > 9 && D != 64) return;  // the largest shapes once per head dim keep the suite short
  if (hs::test::kEmulated) {
    // Every launch path once, at sizes the emulator gets through: T = 97 crosses the tensor-core
    // kernel's 64-row key tiles (with both buffers at D ≤ 64, one at D = 128), and the SIMT kernel's
    // 16-row blocks and 32-key tiles; T = 129 (one head) ends the full-length sequence with a key tile
    // holding a single key, after a tile loaded into the buffer that held Q.
    const bool one_key_tile = T == 129 && H == 1 && D == 64;
    if ((T > 97 && !one_key_tile) || H > 9 || (T >= 29 && T <= 97 && (H != 9 || gk == Gates::AllZero))) return;
    if (T == 61 && D == 128) return;  // four-warp blocks at D = 128 run at T = 97
    const bool simt = dt.kernel == hs::gpu::DType::F32 || misaligned;
    if (simt && (T >= 29 || D == 128) && !(T == 97 && packed && D == 64)) return;
  } else if (hs::test::quick_kernel_tests() && (T > 97 || H == 9 || H == 16 || D == 128 || (misaligned && T != 97))) {
    return;
  }
  // Fresh inputs every run; the seed is printed with any failure so it can be replayed.
  const uint64_t seed = hs::test::fresh_seed();
  CATCH_CAPTURE(dt.name, T, H, D, static_cast<int>(gk), packed, misaligned, seed);
  const Case c{3, T, H, D, gk};
  at::manual_seed(seed);
  const Inputs in = make_inputs(c, seed);
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  const at::Tensor rounded = in.qkv.to(dt.dtype).to(at::kDouble);
  const at::Tensor ref = reference(in, rounded, scale);  // (B, T, H, D)

  // Padded: the fused (B·T, 3, H, D) buffer as is. Packed: the real tokens only, back to back.
  std::vector<int> cu{0};
  at::Tensor host = in.qkv.to(dt.dtype);
  if (packed) {
    std::vector<at::Tensor> rows;
    for (int b = 0; b < c.B; ++b) {
      rows.push_back(host[b].slice(0, 0, in.key_lens[b]));
      cu.push_back(cu.back() + in.key_lens[b]);
    }
    host = at::cat(rows);
  }
  const int64_t tokens = packed ? cu.back() : static_cast<int64_t>(c.B) * T;
  const int64_t shift = misaligned ? 1 : 0;
  hs::test::DeviceBuffer qkv_dev(at::cat({at::zeros({shift}, host.options()), host.flatten()}));
  hs::test::DeviceBuffer out_dev(tokens * H * D * host.element_size());
  out_dev.poison();
  hs::test::DeviceBuffer lens_dev(int_tensor(in.key_lens)), cu_dev(int_tensor(cu));
  hs::test::DeviceBuffer gates_dev(in.gates.defined() ? in.gates : at::ones({1, H}));
  hs::test::DeviceBuffer rows_dev(int_tensor(in.gate_row.empty() ? std::vector<int>(c.B, 0) : in.gate_row));
  hs::test::DeviceBuffer cls_dev(at::zeros({c.B, H}));

  const int64_t elt = host.element_size();
  hs::gpu::GatedAttnParams p = fused_qkv_params(static_cast<char*>(qkv_dev.get()) + shift * elt, out_dev.get(), c.B,
                                                T, H, D, elt, dt.kernel);
  p.cu_seqlens = packed ? static_cast<const int*>(cu_dev.get()) : nullptr;
  p.key_lens = packed ? nullptr : static_cast<const int*>(lens_dev.get());
  p.gates = static_cast<const float*>(gates_dev.get());
  p.gate_row = static_cast<const int*>(rows_dev.get());
  p.cls_mass = static_cast<float*>(cls_dev.get());
#ifdef HEADSWEEP_CUDA_EMULATION
  hs::emu::reset_ldmatrix_stats();
#endif
  hs::gpu::gated_attn_fwd_launch(p, nullptr);
  const at::Tensor out = out_dev.download({tokens, H, D}, dt.dtype).to(at::kDouble);
#ifdef HEADSWEEP_CUDA_EMULATION
  // The shared tiles' rows are padded so that the eight rows of each ldmatrix request fall on
  // different banks: every matrix the tensor-core kernel reads takes one wavefront.
  const hs::emu::LdmatrixStats lds = hs::emu::ldmatrix_stats();
  const bool tensor_cores = dt.kernel != hs::gpu::DType::F32 && !misaligned;
  if (!tensor_cores || gk == Gates::AllZero) CATCH_CHECK(lds.matrices == 0);
  if (tensor_cores && (gk == Gates::AllOne || gk == Gates::SingleHead)) CATCH_CHECK(lds.matrices > 0);
  CATCH_CHECK(lds.wavefronts == lds.matrices);
#endif

  // Compare row by row: the padded layout's rows beyond key_lens are real outputs too.
  for (int b = 0; b < c.B; ++b) {
    const int n = packed ? in.key_lens[b] : T;
    const at::Tensor got = out.slice(0, packed ? cu[b] : b * T, (packed ? cu[b] : b * T) + n);
    hs::test::check_close(got, ref[b].slice(0, 0, n), dt, fmt::format("sequence {}", b));
  }
  // [CLS] mass: mean over real queries of the weight on key 0, for heads that are not gated off.
  const at::Tensor probs_all = [&] {
    const at::Tensor q = rounded.select(2, 0).permute({0, 2, 1, 3}), k = rounded.select(2, 1).permute({0, 2, 1, 3});
    at::Tensor s = at::matmul(q, k.transpose(-1, -2)) * scale;
    const at::Tensor pos = at::arange(T).view({1, T});
    s = s.masked_fill((pos >= int_tensor(in.key_lens).to(at::kLong).view({c.B, 1})).view({c.B, 1, 1, T}), -INFINITY);
    return at::softmax(s, -1);  // (B, H, T, T)
  }();
  const at::Tensor cls = cls_dev.download({c.B, H}, at::kFloat).to(at::kDouble);
  for (int b = 0; b < c.B; ++b) {
    const at::Tensor g = in.gates.defined() ? in.gates[in.gate_row.empty() ? 0 : in.gate_row[b]] : at::ones({H});
    const at::Tensor want = probs_all[b].slice(1, 0, in.key_lens[b]).select(2, 0).mean(1) * (g != 0).to(at::kDouble);
    CATCH_CHECK((cls[b] - want).abs().max().item<double>() < dt.atol + 1e-5);
  }
}

CATCH_TEST_CASE("gated attention launcher rejects shapes before launching", "[cuda]") {
  if (!hs::test::kernels_runnable()) HS_SKIP_WITHOUT_DEVICE();
  const int lens = 1;
  hs::gpu::GatedAttnParams p;
  p.key_lens = &lens;  // never read: every case throws before a launch
  p.B = 1 << 27;  // 2^27 sequences of 512 tokens: more blocks than the grid's x holds
  p.H = 12;
  p.D = 64;
  p.max_seqlen = 512;
  CATCH_CHECK_THROWS_WITH(hs::gpu::gated_attn_fwd_launch(p, nullptr), Catch::Contains("exceed the grid's limits"));
  p.B = 2;
  p.H = 70000;
  CATCH_CHECK_THROWS_WITH(hs::gpu::gated_attn_fwd_launch(p, nullptr), Catch::Contains("exceed the grid's limits"));
  p.H = 12;
  p.max_seqlen = 8;
  // The head dims the seam says the kernel takes (run_plan refuses runtime.attention: kernel for
  // others before any work) are those the kernel test above runs, and the launcher refuses the rest.
  for (int D = 8; D <= 256; D += 8) {
    if (hs::ops::gated_attn_kernel_takes_head_dim(D)) {
      CATCH_CHECK((D == 32 || D == 64 || D == 128));  // what "matches the fp64 composite" runs
      continue;
    }
    p.D = D;
    for (const hs::gpu::DType t : {hs::gpu::DType::F32, hs::gpu::DType::BF16}) {
      p.dtype = t;
      CATCH_CHECK_THROWS_WITH(hs::gpu::gated_attn_fwd_launch(p, nullptr), Catch::Contains("head dim " + std::to_string(D)));
    }
  }
}
// More sequences than the grid's y and z hold (a trie batch repeated for many masks), and key lengths
// outside [0, T], which the kernels clamp as the composite does rather than read the next sequence.
CATCH_TEST_CASE("gated attention kernel takes any number of sequences and clamps key lengths", "[cuda]") {
  if (!hs::test::kernels_runnable()) HS_SKIP_WITHOUT_DEVICE();
  const hs::test::DTypeCase dt = GENERATE(Catch::Generators::from_range(hs::test::dtype_cases()));
  if (dt.kernel == hs::gpu::DType::F16) return;  // fp32 takes the SIMT kernel, bf16 the tensor-core one
  const int B = hs::test::kEmulated ? 5 : 70000, T = 7, H = 2, D = 32;
  const uint64_t seed = hs::test::fresh_seed();
  CATCH_CAPTURE(dt.name, B, seed);
  at::manual_seed(seed);
  const at::Tensor qkv = at::randn({B, T, 3, H, D}, at::kDouble).to(dt.dtype);
  std::vector<int> lens(B);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> len(1, T);
  for (int& n : lens) n = len(rng);
  lens[1] = T + 9;  // the last sequence's too: a read past the buffer unless clamped
  lens[B - 1] = T + 1;
  lens[2] = -2;
  const at::Tensor ref = hs::ops::gated_attn_fwd_cpu(qkv.select(2, 0).to(at::kDouble), qkv.select(2, 1).to(at::kDouble),
                                                     qkv.select(2, 2).to(at::kDouble), int_tensor(lens), {}, {},
                                                     1.0 / std::sqrt(double{D}));  // (B, T, H, D)
  hs::test::DeviceBuffer qkv_dev(qkv), lens_dev(int_tensor(lens));
  hs::test::DeviceBuffer out_dev(int64_t{B} * T * H * D * qkv.element_size());
  out_dev.poison();
  hs::gpu::GatedAttnParams p =
      fused_qkv_params(qkv_dev.get(), out_dev.get(), B, T, H, D, qkv.element_size(), dt.kernel);
  p.key_lens = static_cast<const int*>(lens_dev.get());
  hs::gpu::gated_attn_fwd_launch(p, nullptr);
  const at::Tensor out = out_dev.download({B, T, H, D}, dt.dtype).to(at::kDouble);
  hs::test::check_close(out, ref, dt, "all sequences");
}
#endif
