#pragma once
// Per-mask mixing of per-head output projections with bias, residual and LayerNorm: the seam to
// cuda/head_mix_ln. out[n, t] = LayerNorm(Σ_h g[n, h]·proj[h, t] + bias + residual[t]).
#include <ATen/ATen.h>

namespace hs::ops {

// Undefined gates mean all ones; undefined bias / residual are left out; undefined ln_weight means
// no LayerNorm. With proj of one head (1, tokens, C) and no gates this is "bias + residual + LayerNorm".
at::Tensor head_mix_ln(const at::Tensor& proj /* (H, tokens, C) */, const at::Tensor& gates /* (N, H) float32 */,
                       const at::Tensor& bias /* (C) */, const at::Tensor& residual /* (tokens, C) */,
                       const at::Tensor& ln_weight /* (C) */, const at::Tensor& ln_bias /* (C) */,
                       double eps);  // (N, tokens, C)

// The widest rows and the most heads the CUDA kernel takes (cuda/head_mix_ln.h, whose launcher
// refuses more). Every layer on CUDA runs it, so a wider model runs on the CPU only.
constexpr int64_t kMixKernelMaxC = 4096;
constexpr int64_t kMixKernelMaxHeads = 64;
bool head_mix_kernel_takes(int64_t C, int64_t H);

at::Tensor head_mix_ln_cpu(const at::Tensor& proj, const at::Tensor& gates, const at::Tensor& bias,
                           const at::Tensor& residual, const at::Tensor& ln_weight, const at::Tensor& ln_bias,
                           double eps);

}  // namespace hs::ops
