#pragma once
// In-place x = GELU(x + bias) on the feed-forward intermediate.
#include <cstdint>

#include <cuda_runtime_api.h>

#include "dtype.h"

namespace hs::gpu {

struct BiasGeluParams {
  void* x;                     // (rows, cols), contiguous
  const void* bias = nullptr;  // (cols) or null
  int64_t rows = 0, cols = 0;
  bool tanh_approx = false;    // "gelu_new"/"gelu_pytorch_tanh" checkpoints; exact erf GELU otherwise
  DType dtype = DType::F32;
};

void bias_gelu_launch(const BiasGeluParams& p, cudaStream_t stream);

}  // namespace hs::gpu
