#pragma once
// Device helpers shared by the kernels: storage-type conversion, warp and block reductions.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <initializer_list>
#include <stdexcept>

#include "check.h"
#include "dtype.h"

namespace hs::gpu {

constexpr int kWarpSize = 32;

// Every launch is spelled HS_LAUNCH(grid, block, stream, kernel)(args...), so the kernel files also
// compile as C++ for the CPU emulator the tests run them in (tests/cuda_emu/cuda_emu.h).
#ifndef HS_CUDA_EMULATION
#define HS_LAUNCH(grid, block, stream, ...) __VA_ARGS__<<<(grid), (block), 0, (stream)>>>
#endif

// A vector access of `bytes` must be aligned to them, or the GPU faults. The emulator checks it;
// compiled by nvcc this is nothing.
#ifndef HS_ASSERT_ALIGNED
#define HS_ASSERT_ALIGNED(p, bytes) ((void)0)
#endif

__host__ __device__ constexpr int ceil_div(int a, int b) { return (a + b - 1) / b; }

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__half x) { return __half2float(x); }
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }

template <typename T> __device__ __forceinline__ T from_float(float x);
template <> __device__ __forceinline__ float from_float<float>(float x) { return x; }
template <> __device__ __forceinline__ __half from_float<__half>(float x) { return __float2half_rn(x); }
template <> __device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

// Vectorised access: V elements of T in one 16-byte load or store where the data allow it (V = 1
// is the plain element-wise fallback).
constexpr int kPackBytes = 16;

template <typename T, int V>
struct alignas(sizeof(T) * V) Pack {
  T v[V];
};

template <typename T, int V>
__device__ __forceinline__ Pack<T, V> load_pack(const T* p) {
  HS_ASSERT_ALIGNED(p, sizeof(Pack<T, V>));
  return *reinterpret_cast<const Pack<T, V>*>(p);
}

template <typename T, int V>
__device__ __forceinline__ void store_pack(T* p, const Pack<T, V>& x) {
  HS_ASSERT_ALIGNED(p, sizeof(Pack<T, V>));
  *reinterpret_cast<Pack<T, V>*>(p) = x;
}

// True when every pointer (null ones included) is 16-byte aligned, so packed access is legal.
inline bool packs_aligned(std::initializer_list<const void*> ptrs) {
  for (const void* q : ptrs) {
    if (reinterpret_cast<std::uintptr_t>(q) % kPackBytes != 0) return false;
  }
  return true;
}

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = kWarpSize / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
  for (int o = kWarpSize / 2; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over the block; every thread gets the result. scratch holds one float per warp. The leading
// barrier lets callers reuse scratch for consecutive reductions.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const int n_warps = ceil_div(blockDim.x, kWarpSize);
  v = warp_sum(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float total = 0.f;
  for (int w = 0; w < n_warps; ++w) total += scratch[w];
  return total;
}

// Calls f with the storage type matching t: one switch per launcher, and an error for anything else.
template <typename F>
void dispatch_dtype(DType t, F&& f) {
  switch (t) {
    case DType::F32: f(float{}); return;
    case DType::F16: f(__half{}); return;
    case DType::BF16: f(__nv_bfloat16{}); return;
  }
  throw std::invalid_argument("unsupported dtype");
}

}  // namespace hs::gpu
