#pragma once
// runtime.device: where the model runs.
#include <string>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

namespace hs::model {

// "cpu", "cuda" (= "cuda:0"), "cuda:N" or "auto" (CUDA when this build has CUDA ops and a device is
// present, else the CPU). Asking for CUDA in a build without it, or for a device that is not there,
// is an InputError "SPEC, but ...", for the caller to place (runtime.device in a config).
c10::Device resolve_device(const std::string& spec);

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
