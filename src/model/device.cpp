#include "model/device.h"

#include <fstream>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "ops/cuda_ops.h"
#include "util/error.h"

namespace hs::model {

c10::Device choose_device(const std::string& spec, const CudaDevices& cuda, std::string* note) {
  if (note) note->clear();
  if (spec == "cpu") return c10::Device(c10::kCPU);
  auto device_named = [&](int i) { return fmt::format("{} (cuda:{})", cuda.name(i), i); };
  if (spec == "auto") {
    std::vector<std::string> passed;
    for (int i = 0; cuda.built && i < cuda.count; ++i) {
      const std::string why = cuda.unusable(i);
      if (why.empty()) {
        if (note && !passed.empty()) *note = fmt::format("{}; running on cuda:{}", fmt::join(passed, "; "), i);
        return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(i));
      }
      passed.push_back(fmt::format("{} cannot run headsweep's kernels: {}", device_named(i), why));
    }
    if (note && !passed.empty()) *note = fmt::format("{}; running on the CPU", fmt::join(passed, "; "));
    return c10::Device(c10::kCPU);
  }
  const int index = spec == "cuda" ? 0 : std::stoi(spec.substr(5));  // the option check allows cuda:N only
  if (!cuda.built) {
    hs::input_error(
        "{}, but this headsweep was built without CUDA (nvcc not found, HEADSWEEP_CUDA=OFF, or "
        "a CPU-only libtorch); use cpu or auto, or rebuild with HEADSWEEP_CUDA=ON against a CUDA libtorch",
        spec);
  }
  if (cuda.count == 0) hs::input_error("{}, but no CUDA device is available", spec);
  if (index >= cuda.count) hs::input_error("{}, but only {} CUDA device(s) are available", spec, cuda.count);
  const std::string why = cuda.unusable(index);
  if (!why.empty()) hs::input_error("{}, but {} cannot run headsweep's kernels: {}", spec, device_named(index), why);
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

c10::Device resolve_device(const std::string& spec, std::string* note) {
  CudaDevices cuda;
  cuda.built = ops::cuda_ops_built();
  cuda.count = spec == "cpu" ? 0 : ops::cuda_device_count();
  cuda.name = ops::cuda_device_name;
  cuda.unusable = ops::cuda_device_unusable;
  return choose_device(spec, cuda, note);
}

std::string device_kind(const c10::Device& device) { return device.is_cuda() ? "cuda" : "cpu"; }

std::string device_name(const c10::Device& device) {
  if (device.is_cuda()) return ops::cuda_device_name(device.has_index() ? device.index() : 0);
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) break;
    const size_t start = line.find_first_not_of(" \t", colon + 1);
    if (start != std::string::npos) return line.substr(start);
  }
  return "cpu";
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
  if (n == 0) return "built, no device available";
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) {
    const std::string why = ops::cuda_device_unusable(i);
    names.push_back(fmt::format("cuda:{} {}{}", i, ops::cuda_device_name(i),
                                why.empty() ? "" : " (cannot run headsweep's kernels: " + why + ")"));
  }
  return fmt::format("built, {} device(s): {}", n, fmt::join(names, ", "));
}

}  // namespace hs::model
