#include "check.h"

#include <stdexcept>
#include <string>

namespace hs::gpu {

void cuda_fail(cudaError_t err, const char* expr, const char* file, int line, const char* func) {
  throw std::runtime_error(std::string("CUDA error ") + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) +
                           ") in " + func + " at " + file + ":" + std::to_string(line) + ": " + expr);
}

bool cuda_device_available() {
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    cudaGetLastError();  // reset the last error to cudaSuccess, so the next check does not report this one
    return false;
  }
  return n > 0;
}

}  // namespace hs::gpu
