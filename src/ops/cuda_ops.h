#pragma once
// The CUDA halves of the ops, defined only in builds with the kernels and a CUDA-enabled libtorch.
#include <ATen/ATen.h>

namespace hs::ops {

// Whether this build can run the ops on CUDA tensors.
bool cuda_ops_built();
// CUDA devices libtorch can use (0 in builds without CUDA ops).
int cuda_device_count();

at::Tensor gated_attn_fwd_cuda(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                               const at::Tensor& key_lens, const at::Tensor& gates, const at::Tensor& gate_row,
                               double scale);
at::Tensor gated_attn_fused_cuda(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                 const at::Tensor& key_lens, const at::Tensor& gates, const at::Tensor& gate_row,
                                 double scale, const at::Tensor& real_key);
at::Tensor head_mix_ln_cuda(const at::Tensor& proj, const at::Tensor& gates, const at::Tensor& bias,
                            const at::Tensor& residual, const at::Tensor& ln_weight, const at::Tensor& ln_bias,
                            double eps);
void bias_gelu_cuda_(at::Tensor& x, const at::Tensor& bias, bool tanh_approx);

}  // namespace hs::ops
