#pragma once
// Tensor preconditions at the op seam; messages name the argument.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <c10/util/Exception.h>

#define HS_CHECK_DIM(x, n) TORCH_CHECK((x).dim() == (n), #x " must have ", (n), " dimensions, got ", (x).sizes())
#define HS_CHECK_SIZE(x, d, n) \
  TORCH_CHECK((x).size(d) == (n), #x " must have size ", (n), " in dimension ", (d), ", got ", (x).sizes())
#define HS_CHECK_DTYPE(x, t) TORCH_CHECK((x).scalar_type() == (t), #x " must be ", (t), ", got ", (x).scalar_type())
#define HS_CHECK_SAME_DEVICE(x, y) \
  TORCH_CHECK((x).device() == (y).device(), #x " is on ", (x).device(), " but " #y " is on ", (y).device())
#define HS_CHECK_CONTIGUOUS(x) TORCH_CHECK((x).is_contiguous(), #x " must be contiguous")

namespace hs::ops {

// headsweep's CUDA kernels have no backward. A tensor autograd is recording for (a gate of gradient
// importance, or anything computed from one) must take the libtorch composite, which has one;
// through a kernel its gradient would silently stop.
inline void check_no_autograd(const at::Tensor& x, const char* name) {
  TORCH_CHECK(!(x.defined() && at::GradMode::is_enabled() && x.requires_grad()), name,
              " requires grad, but the CUDA kernels have no backward: use the libtorch composite");
}

// Gates of H heads: undefined (all ones) or (rows, H) float32.
inline void check_gates(const at::Tensor& gates, int64_t H) {
  if (!gates.defined()) return;
  HS_CHECK_DIM(gates, 2);
  HS_CHECK_SIZE(gates, 1, H);
  HS_CHECK_DTYPE(gates, at::kFloat);
}

}  // namespace hs::ops
