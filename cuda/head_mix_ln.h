#pragma once
// Per-mask mixing of per-head output projections, fused with bias, residual add and LayerNorm.
#include <cstdint>

#include <cuda_runtime_api.h>

#include "dtype.h"

namespace hs::gpu {

struct HeadMixParams {
  // y[n, t] = Σ_h gates[n, h]·proj[h, t] + bias + residual[t], then out[n, t] = LayerNorm(y) when
  // ln_weight is set, else y. With H = 1 and no gates this is the plain "bias + residual +
  // LayerNorm" after any GEMM.
  const void* proj;               // (H, tokens, C): head h's context times its W_O column block
  int64_t proj_head_stride = 0;   // elements between heads' blocks, tokens·C when contiguous
  const float* gates = nullptr;   // (N, H); null: every gate 1
  const void* bias = nullptr;     // (C) or null
  const void* residual = nullptr; // (tokens, C) or null
  const void* ln_weight = nullptr;  // (C) or null: no LayerNorm
  const void* ln_bias = nullptr;    // (C), with ln_weight
  float eps = 1e-12f;
  void* out;  // (N, tokens, C)
  int N = 1, H = 1, tokens = 0, C = 0;
  DType dtype = DType::F32;  // of proj, bias, residual, LayerNorm parameters and out
};

// C must be at most 4096 and H at most 64; throws std::invalid_argument otherwise.
void head_mix_ln_launch(const HeadMixParams& p, cudaStream_t stream);

}  // namespace hs::gpu
