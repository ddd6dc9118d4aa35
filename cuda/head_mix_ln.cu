// out[n, t, :] = LayerNorm(Σ_h g[n, h]·P[h, t, :] + b + residual[t, :]).
// One warp (C ≤ 1024, read 16 bytes at a time) or one block of 128 threads (wider rows, or rows
// that must be read one element at a time) per (token, group of masks): it reads the token's bias
// + residual once and mixes every mask of its group from the same head rows, so a trie node's
// children re-read P from L1/L2 rather than from memory. Each thread holds its columns in
// registers, so the LayerNorm's mean and variance (two passes, not E[x²]−E[x]², which cancels
// badly) read no memory twice. Heads whose gate is 0 are skipped. fp32 arithmetic for every
// storage type. Tested by tests/ops/test_head_mix.cpp against ops::head_mix_ln_cpu in fp64.
#include "head_mix_ln.h"

#include <algorithm>
#include <string>
#include <type_traits>

#include "common.cuh"

namespace hs::gpu {
namespace {

constexpr int kThreads = 128;
constexpr int kMaxC = 4096;
constexpr int kWarpMaxC = 1024;  // widest row the warp kernel takes
constexpr int kMaxHeads = 64;
constexpr int64_t kTargetBlocks = 2048;  // see masks_per_group

// ---- kernels

// Mixes token t for masks [n_first, n_last) with kRowThreads threads, this one the i-th; `row_sum`
// sums a float over those threads (every one gets the result). V elements of the storage type T per
// thread and chunk, kChunks chunks per thread (the fewest that cover C, so registers and occupancy
// follow the model's width); chunk j of thread i covers columns [(i + j·kRowThreads)·V, … + V).
template <typename T, int V, int kChunks, int kRowThreads, typename Sum>
__device__ __forceinline__ void mix_token(const HeadMixParams& p, int t, int n_first, int n_last, int i,
                                          Sum&& row_sum) {
  // Several heads' loads in flight where registers allow (wider unrolls spill).
  constexpr int kHeadUnroll = V > 1 && kChunks <= 2 ? 4 : 1;
  const int n_vec = p.C / V;
  const int64_t row = static_cast<int64_t>(t) * p.C;

  // bias + residual of this token: the part every mask shares.
  float base[kChunks][V];
#pragma unroll
  for (int j = 0; j < kChunks; ++j) {
    const int vi = i + j * kRowThreads;
#pragma unroll
    for (int e = 0; e < V; ++e) base[j][e] = 0.f;
    if (vi >= n_vec) continue;
    if (p.bias) {
      const Pack<T, V> b = load_pack<T, V>(static_cast<const T*>(p.bias) + vi * V);
#pragma unroll
      for (int e = 0; e < V; ++e) base[j][e] += to_float(b.v[e]);
    }
    if (p.residual) {
      const Pack<T, V> r = load_pack<T, V>(static_cast<const T*>(p.residual) + row + vi * V);
#pragma unroll
      for (int e = 0; e < V; ++e) base[j][e] += to_float(r.v[e]);
    }
  }

  const T* proj = static_cast<const T*>(p.proj) + row;
  for (int n = n_first; n < n_last; ++n) {
    float y[kChunks][V];
#pragma unroll
    for (int j = 0; j < kChunks; ++j) {
#pragma unroll
      for (int e = 0; e < V; ++e) y[j][e] = 0.f;
    }
#pragma unroll kHeadUnroll
    for (int h = 0; h < p.H; ++h) {
      const float g = p.gates ? p.gates[n * p.H + h] : 1.f;  // the same address in every thread
      if (g == 0.f) continue;
      const T* ph = proj + h * p.proj_head_stride;
#pragma unroll
      for (int j = 0; j < kChunks; ++j) {
        const int vi = i + j * kRowThreads;
        if (vi >= n_vec) continue;
        const Pack<T, V> x = load_pack<T, V>(ph + vi * V);
#pragma unroll
        for (int e = 0; e < V; ++e) y[j][e] += g * to_float(x.v[e]);
      }
    }
    float sum = 0.f;
#pragma unroll
    for (int j = 0; j < kChunks; ++j) {
      const bool in = i + j * kRowThreads < n_vec;
#pragma unroll
      for (int e = 0; e < V; ++e) {
        y[j][e] += base[j][e];
        if (in) sum += y[j][e];
      }
    }

    T* out = static_cast<T*>(p.out) + static_cast<int64_t>(n) * p.tokens * p.C + row;
    float mean = 0.f, rstd = 1.f;
    if (p.ln_weight) {
      mean = row_sum(sum) / p.C;
      float sq = 0.f;
#pragma unroll
      for (int j = 0; j < kChunks; ++j) {
        if (i + j * kRowThreads >= n_vec) continue;
#pragma unroll
        for (int e = 0; e < V; ++e) sq += (y[j][e] - mean) * (y[j][e] - mean);
      }
      rstd = rsqrtf(row_sum(sq) / p.C + p.eps);
    }
#pragma unroll
    for (int j = 0; j < kChunks; ++j) {
      const int vi = i + j * kRowThreads;
      if (vi >= n_vec) continue;
      Pack<T, V> o;
      if (p.ln_weight) {
        const Pack<T, V> w = load_pack<T, V>(static_cast<const T*>(p.ln_weight) + vi * V);
        const Pack<T, V> b = load_pack<T, V>(static_cast<const T*>(p.ln_bias) + vi * V);
#pragma unroll
        for (int e = 0; e < V; ++e) o.v[e] = from_float<T>((y[j][e] - mean) * rstd * to_float(w.v[e]) + to_float(b.v[e]));
      } else {
#pragma unroll
        for (int e = 0; e < V; ++e) o.v[e] = from_float<T>(y[j][e]);
      }
      store_pack<T, V>(out + vi * V, o);
    }
  }
}

// Rows of up to kWarpMaxC packed columns: one warp per (token, group of masks), four per block. A
// row of BERT-base (C = 768) is 96 packs of bf16, three per lane, and its sums are warp shuffles:
// no block barrier, no idle quarter of a 128-thread block, and 64 rows in flight per SM.
template <typename T, int V, int kChunks>
__global__ void __launch_bounds__(kThreads) head_mix_ln_warp_kernel(const HeadMixParams p, int masks_per_warp) {
  const int groups = ceil_div(p.N, masks_per_warp);
  const int64_t item = static_cast<int64_t>(blockIdx.x) * (kThreads / kWarpSize) + threadIdx.x / kWarpSize;
  if (item >= static_cast<int64_t>(p.tokens) * groups) return;  // the whole warp: no barrier follows
  const int t = static_cast<int>(item / groups);
  const int n_first = static_cast<int>(item % groups) * masks_per_warp;
  mix_token<T, V, kChunks, kWarpSize>(p, t, n_first, min(p.N, n_first + masks_per_warp), threadIdx.x % kWarpSize,
                                      [](float v) { return warp_sum(v); });
}

// Blocks per SM the block kernel's register allocation must allow; 0 leaves the choice to ptxas (the
// same code as no bound). The widest packed fp32 rows (C up to 4096: 32 columns and 32 bias +
// residual values per thread) get 1, which lets them have the registers they need: left to itself,
// ptxas gives them 96 registers and a spill on sm_90.
template <typename T, int V, int kChunks>
constexpr int kMixMinBlocks = std::is_same_v<T, float> && V > 1 && V * kChunks * kThreads == kMaxC ? 1 : 0;

// Wider rows, and rows that cannot be read in packs: one block per (token, group of masks).
template <typename T, int V, int kChunks>
__global__ void __launch_bounds__(kThreads, kMixMinBlocks<T, V, kChunks>)
    head_mix_ln_kernel(const HeadMixParams p, int masks_per_block) {
  __shared__ float scratch[kThreads / kWarpSize];
  const int groups = ceil_div(p.N, masks_per_block);
  const int t = blockIdx.x / groups;
  const int n_first = (blockIdx.x % groups) * masks_per_block;
  mix_token<T, V, kChunks, kThreads>(p, t, n_first, min(p.N, n_first + masks_per_block), threadIdx.x,
                                     [&](float v) { return block_sum(v, scratch); });
}

// Masks per (token, group) so that a launch has about `target` groups in all: enough to fill any
// current GPU when tokens are few, one group (every mask) when they are many.
int masks_per_group(const HeadMixParams& p, int64_t target) {
  const int64_t wanted_groups = std::clamp<int64_t>((target + p.tokens - 1) / p.tokens, 1, p.N);
  return static_cast<int>((p.N + wanted_groups - 1) / wanted_groups);
}

// The warp kernel with the fewest chunks that cover C.
template <typename T, int V, int kChunks = 1>
void launch_warp(const HeadMixParams& p, cudaStream_t stream) {
  if constexpr (kChunks < kWarpMaxC / (kWarpSize * V)) {
    if (p.C > kChunks * kWarpSize * V) return launch_warp<T, V, kChunks + 1>(p, stream);
  }
  const int per_warp = masks_per_group(p, kTargetBlocks * (kThreads / kWarpSize));
  const int64_t warps = static_cast<int64_t>(p.tokens) * ceil_div(p.N, per_warp);
  const int64_t blocks = (warps + kThreads / kWarpSize - 1) / (kThreads / kWarpSize);
  if (blocks > 0x7fffffff) throw std::invalid_argument("head_mix_ln: more than 2^31 - 1 blocks");
  HS_LAUNCH(static_cast<unsigned>(blocks), kThreads, stream, head_mix_ln_warp_kernel<T, V, kChunks>)(p, per_warp);
}

// The block kernel for the smallest power-of-two chunk count that covers C; the element-wise
// fallback (odd C or unaligned pointers, rare) has one instantiation, for the widest C.
template <typename T, int V, int kChunks = V == 1 ? kMaxC / kThreads : 1>
void launch(const HeadMixParams& p, cudaStream_t stream) {
  if constexpr (kChunks < kMaxC / (kThreads * V)) {
    if (p.C > kChunks * kThreads * V) return launch<T, V, kChunks * 2>(p, stream);
  }
  const int masks_per_block = masks_per_group(p, kTargetBlocks);
  const int64_t blocks = static_cast<int64_t>(p.tokens) * ceil_div(p.N, masks_per_block);
  if (blocks > 0x7fffffff) throw std::invalid_argument("head_mix_ln: more than 2^31 - 1 blocks");
  HS_LAUNCH(static_cast<unsigned>(blocks), kThreads, stream, head_mix_ln_kernel<T, V, kChunks>)(p, masks_per_block);
}

}  // namespace

// ---- launcher

void head_mix_ln_launch(const HeadMixParams& p, cudaStream_t stream) {
  if (p.N == 0 || p.tokens == 0) return;
  if (p.C > kMaxC) {
    throw std::invalid_argument("head_mix_ln: hidden size " + std::to_string(p.C) + " exceeds " +
                                std::to_string(kMaxC));
  }
  if (p.H > kMaxHeads) throw std::invalid_argument("head_mix_ln: more than 64 heads");
  if (p.ln_weight && !p.ln_bias) throw std::invalid_argument("head_mix_ln: ln_weight without ln_bias");
  dispatch_dtype(p.dtype, [&](auto tag) {
    using T = decltype(tag);
    constexpr int V = kPackBytes / sizeof(T);
    const bool packed = p.C % V == 0 && p.proj_head_stride % V == 0 &&
                        packs_aligned({p.proj, p.bias, p.residual, p.ln_weight, p.ln_bias, p.out});
    if (packed && p.C <= kWarpMaxC) {
      launch_warp<T, V>(p, stream);
    } else if (packed) {
      launch<T, V>(p, stream);
    } else {
      launch<T, 1>(p, stream);
    }
  });
  HS_CUDA_CHECK(cudaGetLastError());
}

}  // namespace hs::gpu
