// out[n, t, :] = LayerNorm(Σ_h g[n, h]·P[h, t, :] + b + residual[t, :]).
// Grid: (tokens, N); block: 256 threads over C, each holding ≤ 16 columns in registers so the
// LayerNorm's mean and variance (two passes, not E[x²]−E[x]², which cancels badly) read no memory
// twice. Heads whose gate is 0 are skipped. fp32 arithmetic for every storage type.
// Tested by tests/ops/test_head_mix.cpp against ops::head_mix_ln_cpu in fp64.
#include "head_mix_ln.h"

#include <string>

#include "common.cuh"

namespace hs::gpu {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxCols = 16;  // per thread: C ≤ 4096
constexpr int kMaxHeads = 64;

// ---- kernels

template <typename T>
__global__ void __launch_bounds__(kThreads) head_mix_ln_kernel(const HeadMixParams p) {
  __shared__ float g[kMaxHeads];
  __shared__ float scratch[kThreads / kWarpSize];
  const int t = blockIdx.x, n = blockIdx.y;
  for (int h = threadIdx.x; h < p.H; h += blockDim.x) g[h] = p.gates ? p.gates[n * p.H + h] : 1.f;
  __syncthreads();

  const T* proj = static_cast<const T*>(p.proj);
  const T* bias = static_cast<const T*>(p.bias);
  const T* res = static_cast<const T*>(p.residual);
  float y[kMaxCols];
  float sum = 0.f;
#pragma unroll
  for (int i = 0; i < kMaxCols; ++i) {
    const int c = threadIdx.x + i * kThreads;
    y[i] = 0.f;
    if (c >= p.C) continue;
    float acc = 0.f;
    for (int h = 0; h < p.H; ++h) {
      if (g[h] != 0.f) acc += g[h] * to_float(proj[h * p.proj_head_stride + static_cast<int64_t>(t) * p.C + c]);
    }
    if (bias) acc += to_float(bias[c]);
    if (res) acc += to_float(res[static_cast<int64_t>(t) * p.C + c]);
    y[i] = acc;
    sum += acc;
  }

  T* out = static_cast<T*>(p.out) + (static_cast<int64_t>(n) * p.tokens + t) * p.C;
  if (!p.ln_weight) {
#pragma unroll
    for (int i = 0; i < kMaxCols; ++i) {
      const int c = threadIdx.x + i * kThreads;
      if (c < p.C) out[c] = from_float<T>(y[i]);
    }
    return;
  }
  const float mean = block_sum(sum, scratch) / p.C;
  float sq = 0.f;
#pragma unroll
  for (int i = 0; i < kMaxCols; ++i) {
    const int c = threadIdx.x + i * kThreads;
    if (c < p.C) sq += (y[i] - mean) * (y[i] - mean);
  }
  const float rstd = rsqrtf(block_sum(sq, scratch) / p.C + p.eps);
  const T* w = static_cast<const T*>(p.ln_weight);
  const T* b = static_cast<const T*>(p.ln_bias);
#pragma unroll
  for (int i = 0; i < kMaxCols; ++i) {
    const int c = threadIdx.x + i * kThreads;
    if (c < p.C) out[c] = from_float<T>((y[i] - mean) * rstd * to_float(w[c]) + to_float(b[c]));
  }
}

}  // namespace

// ---- launcher

void head_mix_ln_launch(const HeadMixParams& p, cudaStream_t stream) {
  if (p.N == 0 || p.tokens == 0) return;
  if (p.C > kThreads * kMaxCols) {
    throw std::invalid_argument("head_mix_ln: hidden size " + std::to_string(p.C) + " exceeds " +
                                std::to_string(kThreads * kMaxCols));
  }
  if (p.H > kMaxHeads) throw std::invalid_argument("head_mix_ln: more than 64 heads");
  if (p.ln_weight && !p.ln_bias) throw std::invalid_argument("head_mix_ln: ln_weight without ln_bias");
  dispatch_dtype(p.dtype, [&](auto tag) {
    using T = decltype(tag);
    head_mix_ln_kernel<T><<<dim3(p.tokens, p.N), kThreads, 0, stream>>>(p);
  });
  HS_CUDA_CHECK(cudaGetLastError());
}

}  // namespace hs::gpu
