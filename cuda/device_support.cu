#include "device_support.h"

#include "check.h"

namespace hs::gpu {
namespace {

// Compiled with the same architectures as every kernel, so whether the runtime finds an image of
// it for a device answers for all of them. Never launched.
__global__ void probe_kernel() {}

}  // namespace

cudaError_t kernel_image_for(int index) {
  int previous = 0;
  HS_CUDA_CHECK(cudaGetDevice(&previous));
  // A device in exclusive-process mode that another process holds, or in prohibited mode, refuses
  // to become current (CUDA 12+ makes its context here): that is this device's answer, not a
  // failure of the query, and the current device stays as it was.
  const cudaError_t set = cudaSetDevice(index);
  if (set != cudaSuccess) {
    cudaGetLastError();
    return set;
  }
  cudaFuncAttributes attributes;
  const cudaError_t err = cudaFuncGetAttributes(&attributes, probe_kernel);
  // A missing image is not a sticky error, but it is the last error until read: the next launch
  // check would report it as its own.
  if (err != cudaSuccess) cudaGetLastError();
  HS_CUDA_CHECK(cudaSetDevice(previous));
  return err;
}

const char* kernel_architectures() { return HS_CUDA_ARCHITECTURES; }

}  // namespace hs::gpu
