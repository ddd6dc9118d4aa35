#pragma once
// The CUDA halves of the ops, defined only in builds with the kernels and a CUDA-enabled libtorch.
#include <functional>
#include <string>

#include <ATen/ATen.h>

namespace hs::ops {

// Whether this build can run the ops on CUDA tensors.
bool cuda_ops_built();
// CUDA devices libtorch can use (0 in builds without CUDA ops).
int cuda_device_count();
// The product name of CUDA device `index` (e.g. "NVIDIA H100 80GB HBM3"); "" in builds without CUDA ops.
std::string cuda_device_name(int index);
// "" when CUDA device `index` can run this build's kernels; otherwise why not, for a message that
// names the device before it (its compute capability, the architectures the kernels were compiled
// for, what would help). Such a device runs libtorch but would fail at headsweep's first launch.
std::string cuda_device_unusable(int index);

// Runs fn with the calling thread launching on worker `slot`'s CUDA stream (one of libtorch's pooled
// streams on `device`), then waits for that stream, so everything fn queued is done on return, also
// when fn throws. Host threads that each run on their own stream fill one another's launch gaps. A
// slot keeps its stream from call to call: libtorch's caching allocator reuses a freed block only
// on the stream it was made for, so fresh streams each call would each keep a copy of the memory.
void on_own_stream(const at::Device& device, int slot, const std::function<void()>& fn);
// Waits for what the calling thread has queued on its current stream of `device`: the pooled
// streams do not wait for other streams by themselves.
void sync_current_stream(const at::Device& device);

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
