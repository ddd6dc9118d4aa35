#pragma once
// Whether a CUDA device can run this build's kernels. The kernels exist for the architectures the
// build compiled (CMAKE_CUDA_ARCHITECTURES): native code for each, which runs on devices of that
// major version and at least that minor one, and PTX, which the driver compiles for newer ones. Any
// other device has libtorch's own kernels but not these, and would fail at the first launch.
#include <cuda_runtime_api.h>

namespace hs::gpu {

// cudaSuccess when device `index` has an image of this build's kernels it can run; otherwise the
// runtime's reason: cudaErrorNoKernelImageForDevice, typically, or the reason the device cannot be
// made current (busy in exclusive-process mode, prohibited). Leaves no error behind for the
// next launch check, and the calling thread's current device as it was.
cudaError_t kernel_image_for(int index);

// The architectures the kernels were compiled for, as CMAKE_CUDA_ARCHITECTURES gave them ("80 90").
const char* kernel_architectures();

}  // namespace hs::gpu
