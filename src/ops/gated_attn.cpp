#include "ops/gated_attn.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "ops/cuda_ops.h"
#include "ops/tensor_checks.h"

namespace hs::ops {
namespace {

void check_args(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& key_lens,
                const at::Tensor& gates, const at::Tensor& gate_row) {
  HS_CHECK_DIM(q, 4);
  TORCH_CHECK(k.sizes() == q.sizes() && v.sizes() == q.sizes(), "q, k and v must have the same shape, got ",
              q.sizes(), ", ", k.sizes(), ", ", v.sizes());
  TORCH_CHECK(k.scalar_type() == q.scalar_type() && v.scalar_type() == q.scalar_type(),
              "q, k and v must have the same dtype");
  HS_CHECK_SAME_DEVICE(k, q);
  HS_CHECK_SAME_DEVICE(v, q);
  const int64_t B = q.size(0), H = q.size(2);
  HS_CHECK_DIM(key_lens, 1);
  HS_CHECK_SIZE(key_lens, 0, B);
  HS_CHECK_DTYPE(key_lens, at::kInt);
  check_gates(gates, H);
  if (gate_row.defined()) {
    TORCH_CHECK(gates.defined(), "gate_row needs gates");
    HS_CHECK_DIM(gate_row, 1);
    HS_CHECK_SIZE(gate_row, 0, B);
    HS_CHECK_DTYPE(gate_row, at::kInt);
    // A row past the gates is a read past their end on the GPU. Checked where it costs no
    // device-to-host copy.
    if (gate_row.is_cpu() && B > 0) {
      const auto [lo_t, hi_t] = at::aminmax(gate_row);
      const int lo = lo_t.item<int>(), hi = hi_t.item<int>();
      TORCH_CHECK(lo >= 0 && hi < gates.size(0), "gate_row must index gates' ", gates.size(0),
                  " rows, got values in [", lo, ", ", hi, "]");
    }
  }
}

}  // namespace

bool gated_attn_kernel_takes_head_dim(int64_t D) {
  return std::find(kAttnKernelHeadDims.begin(), kAttnKernelHeadDims.end(), D) != kAttnKernelHeadDims.end();
}

at::Tensor gated_attn_fwd_cpu(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                              const at::Tensor& key_lens, const at::Tensor& gates, const at::Tensor& gate_row,
                              double scale) {
  const int64_t B = q.size(0), T = q.size(1), H = q.size(2);
  const at::Tensor qh = q.permute({0, 2, 1, 3}), kh = k.permute({0, 2, 1, 3}), vh = v.permute({0, 2, 1, 3});
  // Lengths outside [0, T] are clamped, as the kernels do.
  const at::Tensor lens = key_lens.to(at::kLong).clamp(0, T);  // (B)
  const at::Tensor key_pos = at::arange(T, lens.options()).view({1, T});
  const at::Tensor padded = key_pos >= lens.view({B, 1});  // (B, T)
  at::Tensor scores = at::matmul(qh, kh.transpose(-1, -2)) * scale;         // (B, H, T, T)
  scores = scores.masked_fill(padded.view({B, 1, 1, T}), -std::numeric_limits<double>::infinity());
  at::Tensor probs = at::softmax(scores, -1);
  // A sequence without a single real key gives zeros rather than NaN, as the kernel does.
  probs = probs.masked_fill((lens == 0).view({B, 1, 1, 1}), 0);
  at::Tensor ctx = at::matmul(probs, vh);  // (B, H, T, D)
  if (gates.defined()) {
    const at::Tensor g = gate_row.defined() ? gates.index_select(0, gate_row.to(at::kLong)) : gates[0].expand({B, H});
    ctx = ctx * g.to(ctx.scalar_type()).view({B, H, 1, 1});
  }
  return ctx.permute({0, 2, 1, 3}).contiguous();
}

at::Tensor gated_attn_fwd(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& key_lens,
                          const at::Tensor& gates, const at::Tensor& gate_row, double scale) {
  check_args(q, k, v, key_lens, gates, gate_row);
  if (q.is_cuda()) {
    for (const auto& [t, name] : {std::pair{&q, "q"}, {&k, "k"}, {&v, "v"}, {&gates, "gates"}})
      check_no_autograd(*t, name);
    return gated_attn_fwd_cuda(q, k, v, key_lens, gates, gate_row, scale);
  }
  return gated_attn_fwd_cpu(q, k, v, key_lens, gates, gate_row, scale);
}

at::Tensor gated_attn_fwd_fused(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                const at::Tensor& key_lens, const at::Tensor& gates, const at::Tensor& gate_row,
                                double scale, const at::Tensor& real_key) {
  check_args(q, k, v, key_lens, gates, gate_row);
  if (real_key.defined()) {
    const int64_t B = q.size(0), T = q.size(1);
    TORCH_CHECK(real_key.scalar_type() == at::kBool && real_key.sizes() == at::IntArrayRef({B, 1, 1, T}),
                "real_key must be (B, 1, 1, T) bool");
  }
  if (q.is_cuda()) return gated_attn_fused_cuda(q, k, v, key_lens, gates, gate_row, scale, real_key);
  return gated_attn_fwd_cpu(q, k, v, key_lens, gates, gate_row, scale);
}

}  // namespace hs::ops
