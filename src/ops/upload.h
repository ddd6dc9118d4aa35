#pragma once
// Host-to-device copies of small per-call tensors (gates, index lists, lengths).
#include <ATen/ATen.h>

namespace hs::ops {

// t on device. A copy from pageable host memory waits until the stream has drained, which leaves the
// GPU idle while the host queues the next kernels; a pinned staging copy (libtorch's caching host
// allocator, which keeps it alive until the copy is done) goes asynchronously.
inline at::Tensor upload(const at::Tensor& t, const at::Device& device) {
  if (t.device() == device) return t;
  if (t.is_cpu() && device.is_cuda()) return t.pin_memory().to(t.options().device(device), /*non_blocking=*/true);
  return t.to(device);
}

}  // namespace hs::ops
