// x = GELU(x + b) in place, x (rows, F) with row stride, b (F): erf form 0.5·x·(1 + erf(x/√2)), or
// the tanh approximation when asked. In the model, rows = B·T tokens and F the feed-forward width.
// Grid: x over a row's 16-byte packs (one element each where cols or the pointers do not allow
// packs), y over groups of kRowsPerThread rows (striding past 65,535 groups). Each thread loads its
// bias pack once, has the packs of all its rows in flight before it computes (one 16-byte load per
// thread left too few bytes in flight per SM to stream at the card's bandwidth), and needs no index
// arithmetic per element (a 64-bit modulo per element made the first version compute-bound).
// fp32 arithmetic. Tested by tests/ops/test_bias_gelu.cpp against ops::bias_gelu_cpu_ in fp64.
#include "bias_gelu.h"

#include <algorithm>

#include "common.cuh"

namespace hs::gpu {
namespace {

constexpr int kThreads = 128;
constexpr int64_t kMaxGridY = 65535;
constexpr int kRowsPerThread = 4;

__device__ __forceinline__ float gelu(float v, bool tanh_approx) {
  if (tanh_approx) return 0.5f * v * (1.f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
  return 0.5f * v * (1.f + erff(v * 0.7071067811865476f));
}

// ---- kernels

template <typename T, int V>
__global__ void __launch_bounds__(kThreads) bias_gelu_kernel(const BiasGeluParams p) {
  const int64_t n_vec = p.cols / V;
  const int64_t vi = blockIdx.x * static_cast<int64_t>(kThreads) + threadIdx.x;
  if (vi >= n_vec) return;
  float b[V];
  if (p.bias) {
    const Pack<T, V> bp = load_pack<T, V>(static_cast<const T*>(p.bias) + vi * V);
#pragma unroll
    for (int e = 0; e < V; ++e) b[e] = to_float(bp.v[e]);
  } else {
#pragma unroll
    for (int e = 0; e < V; ++e) b[e] = 0.f;
  }
  T* x = static_cast<T*>(p.x) + vi * V;
  for (int64_t r0 = blockIdx.y * int64_t{kRowsPerThread}; r0 < p.rows; r0 += gridDim.y * int64_t{kRowsPerThread}) {
    Pack<T, V> v[kRowsPerThread];
#pragma unroll
    for (int i = 0; i < kRowsPerThread; ++i) {
      if (r0 + i < p.rows) v[i] = load_pack<T, V>(x + (r0 + i) * p.cols);
    }
#pragma unroll
    for (int i = 0; i < kRowsPerThread; ++i) {
      if (r0 + i >= p.rows) continue;
#pragma unroll
      for (int e = 0; e < V; ++e) v[i].v[e] = from_float<T>(gelu(to_float(v[i].v[e]) + b[e], p.tanh_approx));
      store_pack<T, V>(x + (r0 + i) * p.cols, v[i]);
    }
  }
}

template <typename T, int V>
void launch(const BiasGeluParams& p, cudaStream_t stream) {
  const int64_t n_vec = p.cols / V;
  const dim3 grid(static_cast<unsigned>((n_vec + kThreads - 1) / kThreads),
                  static_cast<unsigned>(std::min((p.rows + kRowsPerThread - 1) / kRowsPerThread, kMaxGridY)));
  HS_LAUNCH(grid, kThreads, stream, bias_gelu_kernel<T, V>)(p);
}

}  // namespace

// ---- launcher

void bias_gelu_launch(const BiasGeluParams& p, cudaStream_t stream) {
  if (p.rows == 0 || p.cols == 0) return;
  dispatch_dtype(p.dtype, [&](auto tag) {
    using T = decltype(tag);
    constexpr int V = kPackBytes / sizeof(T);
    if (p.cols % V == 0 && packs_aligned({p.x, p.bias})) {
      launch<T, V>(p, stream);
    } else {
      launch<T, 1>(p, stream);
    }
  });
  HS_CUDA_CHECK(cudaGetLastError());
}

}  // namespace hs::gpu
