#include "ops/gelu.h"

#include "ops/cuda_ops.h"
#include "ops/tensor_checks.h"

namespace hs::ops {

void bias_gelu_cpu_(at::Tensor& x, const at::Tensor& bias, bool tanh_approx) {
  if (bias.defined()) x.add_(bias);
  x.copy_(at::gelu(x, tanh_approx ? "tanh" : "none"));
}

void bias_gelu_(at::Tensor& x, const at::Tensor& bias, bool tanh_approx) {
  HS_CHECK_DIM(x, 2);
  if (bias.defined()) {
    TORCH_CHECK(bias.dim() == 1 && bias.size(0) == x.size(1), "bias must be (cols=", x.size(1), "), got ",
                bias.sizes());
    HS_CHECK_DTYPE(bias, x.scalar_type());
    HS_CHECK_SAME_DEVICE(bias, x);
    HS_CHECK_CONTIGUOUS(bias);
  }
  if (x.is_cuda()) {
    check_no_autograd(x, "x");
    return bias_gelu_cuda_(x, bias, tanh_approx);
  }
  bias_gelu_cpu_(x, bias, tanh_approx);
}

}  // namespace hs::ops
