#pragma once
// The one CUDA error path: HS_CUDA_CHECK throws (rather than exiting) so that the results writer's
// destructors still flush and a resumed run starts from exactly what was recorded.
#include <cuda_runtime_api.h>

namespace hs::gpu {

[[noreturn]] void cuda_fail(cudaError_t err, const char* expr, const char* file, int line, const char* func);

// True when at least one CUDA device is usable; never throws (no driver, no device: false).
bool cuda_device_available();

}  // namespace hs::gpu

#define HS_CUDA_CHECK(expr)                                                         \
  do {                                                                              \
    const cudaError_t hs_err_ = (expr);                                             \
    if (hs_err_ != cudaSuccess) ::hs::gpu::cuda_fail(hs_err_, #expr, __FILE__, __LINE__, __func__); \
  } while (0)
