#pragma once
// Gated multi-head attention over padded batches: the seam between tensors and cuda/gated_attn_fwd.
// ctx[b, t, h] = g[row(b), h] · softmax_j(scale · q[b, t, h]·k[b, j, h]) v[b, j, h] over the first
// key_lens[b] keys j (clamped to [0, T]), with Hugging Face's head_mask semantics (the gate scales the
// probabilities).
#include <array>

#include <ATen/ATen.h>

namespace hs::ops {

// Tensors on the CPU run the libtorch composite below, on CUDA the kernel (where built with it).
// q, k, v may be strided views of one fused QKV output; their last dimension must be contiguous.
at::Tensor gated_attn_fwd(const at::Tensor& q /* (B, T, H, D) */, const at::Tensor& k /* (B, T, H, D) */,
                          const at::Tensor& v /* (B, T, H, D) */, const at::Tensor& key_lens /* (B) int32 */,
                          const at::Tensor& gates /* (G, H) float32, or undefined: all 1 */,
                          const at::Tensor& gate_row /* (B) int32, or undefined: row 0 */,
                          double scale);  // (B, T, H, D)

// The same result through libtorch's fused scaled_dot_product_attention (flash, memory-efficient or
// cuDNN, whichever libtorch picks for the shapes), then the gates: every head is computed and gated-off
// heads are zeroed afterwards. CUDA tensors only (libtorch 2.x); the CPU runs the composite below.
// The kernel's comparison, and the faster of the two where it measures faster. Unlike the kernel, a
// sequence with no real key gives NaN (an encoder's [CLS] is always one). real_key, when the caller
// has it, is key_lens as the mask the fused attention takes, so it is not rebuilt on every call.
at::Tensor gated_attn_fwd_fused(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                const at::Tensor& key_lens, const at::Tensor& gates, const at::Tensor& gate_row,
                                double scale,
                                const at::Tensor& real_key = {} /* (B, 1, 1, T) bool */);  // (B, T, H, D)

// The head dims the CUDA kernel is compiled for (cuda/gated_attn_detail.cuh's dispatch); a model with
// another D takes the fused attention on CUDA.
inline constexpr std::array<int64_t, 3> kAttnKernelHeadDims{32, 64, 128};
bool gated_attn_kernel_takes_head_dim(int64_t D);

// The composite: the CPU path, and in float64 the reference the kernel's tests compare against.
at::Tensor gated_attn_fwd_cpu(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                              const at::Tensor& key_lens, const at::Tensor& gates, const at::Tensor& gate_row,
                              double scale);

}  // namespace hs::ops
