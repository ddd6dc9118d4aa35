#pragma once
// runtime.device: where the model runs.
#include <functional>
#include <string>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

namespace hs::model {

// "cpu", "cuda" (= "cuda:0"), "cuda:N" or "auto" (the first CUDA device that can run this build's
// kernels, where the build has CUDA ops; else the CPU). Asking for CUDA in a build without it, for a
// device that is not there, or for one that cannot run the kernels (ops::cuda_device_unusable), is
// an InputError "SPEC, but ...", for the caller to place (runtime.device in a config). Where `auto`
// passes over a device that cannot, *note says which and why, for the log; else it is left empty.
c10::Device resolve_device(const std::string& spec, std::string* note = nullptr);

// The CUDA devices as resolve_device sees them (ops/cuda_ops.h), apart so that its choices are
// tested on machines without such devices. Devices are asked about lazily: asking creates a CUDA
// context on the device.
struct CudaDevices {
  bool built = false;  // this build has CUDA ops
  int count = 0;
  std::function<std::string(int)> name;      // product name
  std::function<std::string(int)> unusable;  // "" or why the kernels cannot run there
};
c10::Device choose_device(const std::string& spec, const CudaDevices& cuda, std::string* note = nullptr);

// What a results file records of where a sweep ran (docs/hdf5-schema.md). The kind, "cpu" or "cuda":
// the two round differently, so it is part of a sweep's identity, and runtime.device is stored as
// it (`auto` resolved; the index dropped, since which of a machine's GPUs runs a sweep does not
// change its results). The name: the GPU's product name, or the CPU's model as /proc/cpuinfo gives
// it ("cpu" where it does not).
std::string device_kind(const c10::Device& device);
std::string device_name(const c10::Device& device);

// The storage type a precision name stands for: "fp32", "bf16" or "fp16" (runtime.dtype's values).
c10::ScalarType dtype_named(const std::string& name);

// One line for logs and the env command: CUDA ops built or not, and the devices seen.
std::string cuda_summary();

}  // namespace hs::model
