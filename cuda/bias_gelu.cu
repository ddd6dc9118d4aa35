// x = GELU(x + b): erf form 0.5·x·(1 + erf(x/√2)), or the tanh approximation when asked.
// Grid-stride over rows·cols elements; fp32 arithmetic. Tested by tests/ops/test_bias_gelu.cpp
// against ops::bias_gelu_cpu_ in fp64.
#include "bias_gelu.h"

#include <algorithm>

#include "common.cuh"

namespace hs::gpu {
namespace {

constexpr int kThreads = 256;

// ---- kernels

template <typename T>
__global__ void bias_gelu_kernel(const BiasGeluParams p) {
  T* x = static_cast<T*>(p.x);
  const T* bias = static_cast<const T*>(p.bias);
  const int64_t n = p.rows * p.cols;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float v = to_float(x[i]) + (bias ? to_float(bias[i % p.cols]) : 0.f);
    if (p.tanh_approx) {
      v = 0.5f * v * (1.f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
    } else {
      v = 0.5f * v * (1.f + erff(v * 0.7071067811865476f));
    }
    x[i] = from_float<T>(v);
  }
}

}  // namespace

// ---- launcher

void bias_gelu_launch(const BiasGeluParams& p, cudaStream_t stream) {
  const int64_t n = p.rows * p.cols;
  if (n == 0) return;
  // Enough blocks to fill any current GPU several times over; the loop covers the rest.
  const int blocks = static_cast<int>(std::min<int64_t>((n + kThreads - 1) / kThreads, 65536));
  dispatch_dtype(p.dtype, [&](auto tag) {
    using T = decltype(tag);
    bias_gelu_kernel<T><<<blocks, kThreads, 0, stream>>>(p);
  });
  HS_CUDA_CHECK(cudaGetLastError());
}

}  // namespace hs::gpu
