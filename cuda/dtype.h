#pragma once
// Element types the kernels read and write. Arithmetic is fp32 whatever the storage type.
namespace hs::gpu {

enum class DType { F32, F16, BF16 };

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "float32";
    case DType::F16: return "float16";
    case DType::BF16: return "bfloat16";
  }
  return "?";
}

}  // namespace hs::gpu
