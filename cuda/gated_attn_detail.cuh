#pragma once
// What gated_attn_fwd's two kernels share: where a sequence's tokens are, and the tensor-core path's
// entry points (gated_attn_mma.cu), which the public launcher picks where they apply.
#include <climits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "common.cuh"
#include "gated_attn_fwd.h"

namespace hs::gpu {

struct SeqSpan {
  int start, n_queries, n_keys;
};

__device__ __forceinline__ SeqSpan seq_span(const GatedAttnParams& p, int b) {
  if (p.cu_seqlens) {
    const int s = p.cu_seqlens[b], n = p.cu_seqlens[b + 1] - s;
    return {s, n, n};
  }
  // Clamped: a length beyond T would read the next sequence's keys (or past the buffer for the last).
  return {b * p.max_seqlen, p.max_seqlen, min(max(p.key_lens[b], 0), p.max_seqlen)};
}

// Both kernels put (sequence, query tile) pairs on the grid's x, whose limit is 2^31 - 1 blocks, and
// heads on its y: y and z stop at 65,535, fewer sequences than a trie batch repeated k times holds.
inline dim3 attn_grid(const GatedAttnParams& p, int rows_per_block) {
  const long long tiles = ceil_div(p.max_seqlen, rows_per_block);
  if (tiles * p.B > INT_MAX || p.H > 65535)
    throw std::invalid_argument("gated_attn_fwd: " + std::to_string(p.B) + " sequences of " +
                                std::to_string(p.max_seqlen) + " tokens and " + std::to_string(p.H) +
                                " heads exceed the grid's limits");
  return dim3(static_cast<unsigned>(tiles * p.B), static_cast<unsigned>(p.H));
}

// The sequence and the first query row of this block, for a grid made by attn_grid.
struct BlockCoords {
  int b, q0;
};
__device__ __forceinline__ BlockCoords block_coords(const GatedAttnParams& p, int rows_per_block) {
  const int tiles = static_cast<int>(gridDim.x) / p.B;
  return {static_cast<int>(blockIdx.x) / tiles, static_cast<int>(blockIdx.x) % tiles * rows_per_block};
}

// Calls f with std::integral_constant<int, D> for the head dims both kernels are built for, and
// throws for any other.
template <typename F>
void dispatch_head_dim(int D, F&& f) {
  switch (D) {
    case 32: return f(std::integral_constant<int, 32>{});
    case 64: return f(std::integral_constant<int, 64>{});
    case 128: return f(std::integral_constant<int, 128>{});
  }
  throw std::invalid_argument("gated_attn_fwd: head dim " + std::to_string(D) + " is not 32, 64 or 128");
}

// True for fp16/bf16 storage with 16-byte aligned Q, K, V and output and row strides that keep
// every row 16-byte aligned: the tensor-core kernel's requirements. The launch leaves the launch
// check to gated_attn_fwd_launch.
bool gated_attn_mma_fits(const GatedAttnParams& p);
void gated_attn_mma_launch(const GatedAttnParams& p, cudaStream_t stream);

}  // namespace hs::gpu
