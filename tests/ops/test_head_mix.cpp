// ops::head_mix_ln: the composite against plain loops; the CUDA kernel against the composite in
// fp64 (skipped without a CUDA device).
#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

#include "kernel_harness.h"
#include "test_env.h"
#include "ops/head_mix.h"

namespace {

// y[n,t,c] = Σ_h g[n,h] P[h,t,c] + b[c] + r[t,c], then LayerNorm over c; written out in loops.
at::Tensor head_mix_loops(const at::Tensor& P, const at::Tensor& g, const at::Tensor& b, const at::Tensor& r,
                          const at::Tensor& w, const at::Tensor& lb, double eps) {
  const int64_t H = P.size(0), tokens = P.size(1), C = P.size(2), N = g.size(0);
  at::Tensor out = at::empty({N, tokens, C}, at::kDouble);
  auto pa = P.accessor<double, 3>();
  auto ga = g.accessor<double, 2>();
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t t = 0; t < tokens; ++t) {
      std::vector<double> y(C);
      double mean = 0, var = 0;
      for (int64_t c = 0; c < C; ++c) {
        for (int64_t h = 0; h < H; ++h) y[c] += ga[n][h] * pa[h][t][c];
        y[c] += b[c].item<double>() + r[t][c].item<double>();
        mean += y[c] / C;
      }
      for (int64_t c = 0; c < C; ++c) var += (y[c] - mean) * (y[c] - mean) / C;
      for (int64_t c = 0; c < C; ++c)
        out[n][t][c] = (y[c] - mean) / std::sqrt(var + eps) * w[c].item<double>() + lb[c].item<double>();
    }
  }
  return out;
}

}  // namespace

CATCH_TEST_CASE("head mixing composite equals plain loops", "[ops]") {
  at::manual_seed(3);
  const int64_t H = 5, tokens = 7, C = 24, N = 3;
  const at::Tensor P = at::randn({H, tokens, C}, at::kDouble), g = (at::rand({N, H}) > 0.4).to(at::kFloat);
  const at::Tensor b = at::randn({C}, at::kDouble), r = at::randn({tokens, C}, at::kDouble);
  const at::Tensor w = at::randn({C}, at::kDouble), lb = at::randn({C}, at::kDouble);
  const at::Tensor got = hs::ops::head_mix_ln_cpu(P, g, b, r, w, lb, 1e-12);
  const at::Tensor want = head_mix_loops(P, g.to(at::kDouble), b, r, w, lb, 1e-12);
  CATCH_CHECK((got - want).abs().max().item<double>() < 1e-12);
  // Without LayerNorm, bias or residual: only the gated sum.
  const at::Tensor sum = hs::ops::head_mix_ln(P, g, {}, {}, {}, {}, 0);
  CATCH_CHECK((sum - at::einsum("nh,htc->ntc", {g.to(at::kDouble), P})).abs().max().item<double>() < 1e-12);
}

CATCH_TEST_CASE("head mixing composite rejects parameters the kernel cannot read as (C) arrays", "[ops]") {
  const at::Tensor P = at::randn({2, 3, 8}), w = at::ones({8});
  const at::Tensor strided = at::ones({8, 2}).select(1, 0);  // (C) with stride 2
  CATCH_CHECK_THROWS_WITH(hs::ops::head_mix_ln(P, {}, strided, {}, {}, {}, 0), Catch::Contains("must be contiguous"));
  CATCH_CHECK_THROWS_WITH(hs::ops::head_mix_ln(P, {}, {}, {}, w, strided, 1e-12),
                          Catch::Contains("must be contiguous"));
  CATCH_CHECK_THROWS_WITH(hs::ops::head_mix_ln(P, {}, {}, {}, w, at::ones({7}), 1e-12), Catch::Contains("(C=8)"));
}

#ifdef HEADSWEEP_HAS_CUDA
#include "head_mix_ln.h"

namespace {

struct MixShape {
  int tokens, N, C;
  bool misaligned = false;  // proj one element past a 16-byte boundary: the element-wise path
};

// C covers the warp kernel (packed rows up to 1024: 32, 768, 1000, every chunk count in bf16 and fp32
// up to 1000 / 1024) and the block kernel (packed rows past 1024: 2048, 4096; element-wise: 99, 2050),
// one to 32 columns per thread; 300 tokens × 37 masks puts several masks in a block or warp with a
// short last group, 2100 tokens every mask in one.
std::vector<MixShape> mix_shapes() {
  std::vector<MixShape> s;
  for (int C : {32, 99, 768, 1000, 2050, 4096}) {
    if (hs::test::quick_kernel_tests() && C > 1000) continue;
    s.push_back({13, 1, C});
    s.push_back({13, 7, C});
  }
  for (int C : {99, 768, 1000}) {
    if (hs::test::kEmulated) {
      // Groups of 2 masks, the last of 1, at sizes the emulator gets through: the block kernel
      // (element-wise rows) and the warp kernel.
      if (C == 99) s.push_back({60, 37, C});
      if (C == 768) s.push_back({700, 13, 32});
      continue;
    }
    if (hs::test::quick_kernel_tests() && C != 768) continue;
    s.push_back({300, 37, C});
  }
  s.push_back({13, 7, 768, true});
  s.push_back({13, 7, 2048});  // the block kernel's packed rows, at a size the emulator gets through
  if (!hs::test::quick_kernel_tests()) s.push_back({2100, 7, 768});
  return s;
}

}  // namespace

// What the seam says the kernel does not take (run_plan refuses such a model on CUDA before any
// work) the launcher refuses; the widest it does take, C = 4096 and H = 64, run in the test below.
CATCH_TEST_CASE("head mixing launcher refuses rows wider than the seam says it takes", "[cuda]") {
  if (!hs::test::kernels_runnable()) HS_SKIP_WITHOUT_DEVICE();
  CATCH_CHECK(hs::ops::head_mix_kernel_takes(4096, 64));
  hs::gpu::HeadMixParams p;
  p.proj = p.out = nullptr;  // never read: every case throws before a launch
  p.tokens = 13;
  for (const auto& [C, H] : std::vector<std::pair<int, int>>{{4097, 12}, {8192, 64}, {768, 65}, {4096, 128}}) {
    CATCH_CAPTURE(C, H);
    CATCH_CHECK(!hs::ops::head_mix_kernel_takes(C, H));
    p.C = C;
    p.H = H;
    CATCH_CHECK_THROWS_AS(hs::gpu::head_mix_ln_launch(p, nullptr), std::invalid_argument);
  }
}

CATCH_TEST_CASE("head mixing kernel matches the fp64 composite", "[cuda]") {
  if (!hs::test::kernels_runnable()) HS_SKIP_WITHOUT_DEVICE();
  const hs::test::DTypeCase dt = GENERATE(Catch::Generators::from_range(hs::test::dtype_cases()));
  // 64: the most heads the kernel takes (ops::head_mix_kernel_takes), at the small shapes only.
  const int H = GENERATE(1, 9, 12, 16, 64);
  const MixShape shape = GENERATE(Catch::Generators::from_range(mix_shapes()));
  const bool layer_norm = GENERATE(true, false);
  const int tokens = shape.tokens, N = shape.N, C = shape.C;
  if (H == 64 && (tokens != 13 || N != 7 || shape.misaligned)) return;
  const uint64_t seed = hs::test::fresh_seed();
  CATCH_CAPTURE(dt.name, H, tokens, N, C, shape.misaligned, layer_norm, seed);
  at::manual_seed(seed);
  auto round = [&](const at::Tensor& t) { return t.to(dt.dtype); };
  const at::Tensor P = round(at::randn({H, tokens, C})), b = round(at::randn({C})), r = round(at::randn({tokens, C}));
  const at::Tensor w = round(at::randn({C})), lb = round(at::randn({C}));
  at::Tensor g = (at::rand({N, H}) > 0.5).to(at::kFloat);
  if (N > 1) {
    g[0].fill_(1);  // all-one, all-zero and single-head rows among the random ones
    g[1].fill_(0);
    g[2].zero_();
    g[2][H - 1] = 1;
  }
  auto f64 = [](const at::Tensor& t) { return t.to(at::kDouble); };
  const at::Tensor ref = layer_norm ? hs::ops::head_mix_ln_cpu(f64(P), g, f64(b), f64(r), f64(w), f64(lb), 1e-12)
                                    : hs::ops::head_mix_ln_cpu(f64(P), g, f64(b), f64(r), {}, {}, 0);
  const int64_t shift = shape.misaligned ? 1 : 0;
  hs::test::DeviceBuffer P_d(at::cat({at::zeros({shift}, P.options()), P.flatten()}));
  hs::test::DeviceBuffer b_d(b), r_d(r), w_d(w), lb_d(lb), g_d(g);
  hs::test::DeviceBuffer out_d(static_cast<size_t>(N) * tokens * C * P.element_size());
  out_d.poison();
  hs::gpu::HeadMixParams p;
  p.proj = static_cast<const char*>(P_d.get()) + shift * P.element_size();
  p.proj_head_stride = static_cast<int64_t>(tokens) * C;
  p.gates = static_cast<const float*>(g_d.get());
  p.bias = b_d.get();
  p.residual = r_d.get();
  p.ln_weight = layer_norm ? w_d.get() : nullptr;
  p.ln_bias = layer_norm ? lb_d.get() : nullptr;
  p.eps = 1e-12f;
  p.out = out_d.get();
  p.N = N;
  p.H = H;
  p.tokens = tokens;
  p.C = C;
  p.dtype = dt.kernel;
  hs::gpu::head_mix_ln_launch(p, nullptr);
  // LayerNorm outputs are O(1) after normalising sums of up to 16 O(1) terms: the relative part
  // of the tolerance covers them.
  hs::test::check_close(out_d.download({N, tokens, C}, dt.dtype).to(at::kDouble), ref, dt, "head_mix_ln");
}
#endif
