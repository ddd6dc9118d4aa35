#include "model/device.h"

#include <stdexcept>

#include <fmt/format.h>

#include "ops/cuda_ops.h"
#include "util/error.h"

namespace hs::model {

c10::Device resolve_device(const std::string& spec) {
  if (spec == "cpu") return c10::Device(c10::kCPU);
  const int count = ops::cuda_device_count();
  if (spec == "auto") return count > 0 ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  const int index = spec == "cuda" ? 0 : std::stoi(spec.substr(5));  // the option check allows cuda:N only
  if (!ops::cuda_ops_built()) {
    hs::input_error(
        "{}, but this headsweep was built without CUDA (nvcc not found, HEADSWEEP_CUDA=OFF, or "
        "a CPU-only libtorch); use cpu or auto, or rebuild with HEADSWEEP_CUDA=ON against a CUDA libtorch",
        spec);
  }
  if (count == 0) hs::input_error("{}, but no CUDA device is available", spec);
  if (index >= count) hs::input_error("{}, but only {} CUDA device(s) are available", spec, count);
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

c10::ScalarType dtype_named(const std::string& name) {
  if (name == "fp32") return c10::kFloat;
  if (name == "bf16") return c10::kBFloat16;
  if (name == "fp16") return c10::kHalf;
  throw std::invalid_argument("unknown precision " + name + " (fp32, bf16 or fp16)");
}

std::string cuda_summary() {
  if (!ops::cuda_ops_built()) {
#ifdef HEADSWEEP_KERNELS_BUILT
    return "kernels compiled, but this libtorch is CPU-only: runs on the CPU only";
#else
    return "not built (CPU only)";
#endif
  }
  const int n = ops::cuda_device_count();
  return n == 0 ? "built, no device available" : fmt::format("built, {} device(s)", n);
}

}  // namespace hs::model
