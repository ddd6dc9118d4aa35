// Builds without the kernels or without a CUDA-enabled libtorch: CUDA tensors cannot exist there,
// so reaching these is a caller's bug, reported as such.
#include <stdexcept>

#include "ops/cuda_ops.h"

namespace hs::ops {
namespace {

[[noreturn]] void absent() {
  throw std::logic_error("this headsweep was built without CUDA ops (HEADSWEEP_CUDA off or a CPU-only libtorch)");
}

}  // namespace

bool cuda_ops_built() { return false; }
int cuda_device_count() { return 0; }
std::string cuda_device_name(int) { return ""; }
std::string cuda_device_unusable(int) { return ""; }

void on_own_stream(const at::Device&, int, const std::function<void()>&) { absent(); }
void sync_current_stream(const at::Device&) { absent(); }

at::Tensor gated_attn_fwd_cuda(const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&,
                               const at::Tensor&, const at::Tensor&, double) {
  absent();
}
at::Tensor gated_attn_fused_cuda(const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                 const at::Tensor&, const at::Tensor&, double, const at::Tensor&) {
  absent();
}
at::Tensor head_mix_ln_cuda(const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&,
                            const at::Tensor&, const at::Tensor&, double) {
  absent();
}
void bias_gelu_cuda_(at::Tensor&, const at::Tensor&, bool) { absent(); }

}  // namespace hs::ops
