#pragma once
// x = GELU(x + bias) in place, on the feed-forward intermediate: the seam to cuda/bias_gelu (the
// header name differs from the kernel's, so each include finds its own file).
#include <ATen/ATen.h>

namespace hs::ops {

// Erf form, or the tanh approximation ("gelu_new" / "gelu_pytorch_tanh" checkpoints).
void bias_gelu_(at::Tensor& x /* (rows, cols) */, const at::Tensor& bias /* (cols) or undefined */, bool tanh_approx);
void bias_gelu_cpu_(at::Tensor& x, const at::Tensor& bias, bool tanh_approx);

}  // namespace hs::ops
