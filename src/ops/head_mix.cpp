#include "ops/head_mix.h"

#include <utility>

#include "ops/cuda_ops.h"
#include "ops/tensor_checks.h"

namespace hs::ops {
namespace {

void check_args(const at::Tensor& proj, const at::Tensor& gates, const at::Tensor& bias, const at::Tensor& residual,
                const at::Tensor& ln_weight, const at::Tensor& ln_bias) {
  HS_CHECK_DIM(proj, 3);
  const int64_t H = proj.size(0), tokens = proj.size(1), C = proj.size(2);
  check_gates(gates, H);
  for (const auto& [t, name] : {std::pair{&bias, "bias"}, {&ln_weight, "ln_weight"}, {&ln_bias, "ln_bias"}}) {
    if (!t->defined()) continue;
    TORCH_CHECK(t->dim() == 1 && t->size(0) == C, name, " must be (C=", C, "), got ", t->sizes());
    TORCH_CHECK(t->scalar_type() == proj.scalar_type(), name, " must have proj's dtype, got ", t->scalar_type());
    // The kernel reads them as plain (C) arrays on proj's device.
    TORCH_CHECK(t->device() == proj.device(), name, " is on ", t->device(), " but proj is on ", proj.device());
    TORCH_CHECK(t->is_contiguous(), name, " must be contiguous");
  }
  TORCH_CHECK(ln_weight.defined() == ln_bias.defined(), "ln_weight and ln_bias go together");
  if (residual.defined()) {
    HS_CHECK_DIM(residual, 2);
    HS_CHECK_SIZE(residual, 0, tokens);
    HS_CHECK_SIZE(residual, 1, C);
    HS_CHECK_DTYPE(residual, proj.scalar_type());
    HS_CHECK_SAME_DEVICE(residual, proj);
  }
}

}  // namespace

bool head_mix_kernel_takes(int64_t C, int64_t H) { return C <= kMixKernelMaxC && H <= kMixKernelMaxHeads; }

at::Tensor head_mix_ln_cpu(const at::Tensor& proj, const at::Tensor& gates, const at::Tensor& bias,
                           const at::Tensor& residual, const at::Tensor& ln_weight, const at::Tensor& ln_bias,
                           double eps) {
  const int64_t H = proj.size(0), tokens = proj.size(1), C = proj.size(2);
  const at::Tensor g = gates.defined() ? gates.to(proj.scalar_type()) : at::ones({1, H}, proj.options());
  at::Tensor y = at::matmul(g, proj.reshape({H, tokens * C})).view({g.size(0), tokens, C});  // (N, tokens, C)
  if (bias.defined()) y = y + bias;
  if (residual.defined()) y = y + residual;
  if (ln_weight.defined()) y = at::layer_norm(y, {C}, ln_weight, ln_bias, eps);
  return y;
}

at::Tensor head_mix_ln(const at::Tensor& proj, const at::Tensor& gates, const at::Tensor& bias,
                       const at::Tensor& residual, const at::Tensor& ln_weight, const at::Tensor& ln_bias,
                       double eps) {
  check_args(proj, gates, bias, residual, ln_weight, ln_bias);
  if (proj.is_cuda()) {
    check_no_autograd(proj, "proj");
    check_no_autograd(gates, "gates");
    check_no_autograd(residual, "residual");
    return head_mix_ln_cuda(proj, gates, bias, residual, ln_weight, ln_bias, eps);
  }
  return head_mix_ln_cpu(proj, gates, bias, residual, ln_weight, ln_bias, eps);
}

}  // namespace hs::ops
