#pragma once
// What gated_attn_fwd's two kernels share: where a sequence's tokens are, and the tensor-core path's
// entry points (gated_attn_mma.cu), which the public launcher picks where they apply.
#include <stdexcept>
#include <string>
#include <type_traits>

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
  return {b * p.max_seqlen, p.max_seqlen, p.key_lens[b]};
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
