// The CPU emulator that runs cuda/'s kernels in test_ops_emu: its barriers, shuffles and mma give
// what CUDA defines, and it reports what CUDA leaves undefined instead of returning a result.
#include "cuda_emu.h"

#include <catch2/catch.hpp>

#include <random>
#include <stdexcept>
#include <vector>

#include "mma.cuh"

namespace {

using hs::gpu::kWarpSize;

// Each thread writes its id to shared memory; after the barrier it reads its neighbour's, then
// sums ids over its warp with xor shuffles and broadcasts lane 3's id.
__global__ void exchange_kernel(int* neighbour, int* warp_sums, int* lane3) {
  __shared__ int ids[128];
  const int t = threadIdx.x, n = blockDim.x;
  ids[t] = t + 1000 * blockIdx.x;
  __syncthreads();
  neighbour[blockIdx.x * n + t] = ids[(t + 1) % n];
  int s = t;
  for (int o = 16; o > 0; o /= 2) s += __shfl_xor_sync(0xffffffffu, s, o);
  warp_sums[blockIdx.x * n + t] = s;
  lane3[blockIdx.x * n + t] = __shfl_sync(0xffffffffu, t, 3);
}

// One 16×16 by 16×8 product per warp, fragments loaded from row-major tiles as mma.cuh states.
template <typename T>
__global__ void mma_kernel(const T* a /* (16, 16) */, const T* b_t /* (8, 16): B transposed */, float* d /* (16, 8) */) {
  const int lane = threadIdx.x % kWarpSize, group = lane / 4, tig = lane % 4;
  const uint32_t af[4] = {hs::gpu::load_pair(a + group * 16 + 2 * tig), hs::gpu::load_pair(a + (group + 8) * 16 + 2 * tig),
                          hs::gpu::load_pair(a + group * 16 + 2 * tig + 8),
                          hs::gpu::load_pair(a + (group + 8) * 16 + 2 * tig + 8)};
  const uint32_t bf[2] = {hs::gpu::load_pair(b_t + group * 16 + 2 * tig), hs::gpu::load_pair(b_t + group * 16 + 2 * tig + 8)};
  float acc[4] = {1.f, 1.f, 1.f, 1.f};  // C = 1 everywhere: D = A·B + 1
  hs::gpu::mma_16816<T>(acc, af, bf);
  for (int i = 0; i < 4; ++i) d[(group + 8 * (i / 2)) * 8 + 2 * tig + i % 2] = acc[i];
}

__global__ void exited_lane_kernel(int* out) {
  if (threadIdx.x == 5) return;
  out[threadIdx.x] = __shfl_sync(0xffffffffu, static_cast<int>(threadIdx.x), 0);
}

__global__ void divergent_kernel(int* out) {
  // Lane 0 waits at the block barrier while its warp waits for it at a shuffle: no progress.
  if (threadIdx.x == kWarpSize) {
    __syncthreads();
  } else if (threadIdx.x > kWarpSize) {
    out[threadIdx.x] = __shfl_sync(0xffffffffu, 1, 0);
  } else {
    __syncthreads();
  }
}

__global__ void mixed_collectives_kernel(int* out) {
  if (threadIdx.x % 2) {
    __syncwarp();
  } else {
    out[threadIdx.x] = __shfl_sync(0xffffffffu, 1, 0);
  }
}

__global__ void early_exit_barrier_kernel(int* out) {
  // Threads that have exited count as arrived at __syncthreads.
  if (threadIdx.x >= kWarpSize) return;
  __shared__ int v[kWarpSize];
  v[threadIdx.x] = static_cast<int>(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = v[(threadIdx.x + 1) % kWarpSize];
}

}  // namespace

CATCH_TEST_CASE("emulated barriers and shuffles give CUDA's results", "[cuda_emu]") {
  const int blocks = 3, n = 128;
  std::vector<int> neighbour(blocks * n), sums(blocks * n), lane3(blocks * n);
  HS_LAUNCH(blocks, n, nullptr, exchange_kernel)(neighbour.data(), sums.data(), lane3.data());
  for (int b = 0; b < blocks; ++b) {
    for (int t = 0; t < n; ++t) {
      CATCH_CHECK(neighbour[b * n + t] == (t + 1) % n + 1000 * b);
      const int w0 = t / kWarpSize * kWarpSize;
      CATCH_CHECK(sums[b * n + t] == kWarpSize * w0 + kWarpSize * (kWarpSize - 1) / 2);
      CATCH_CHECK(lane3[b * n + t] == w0 + 3);
    }
  }
  std::vector<int> out(64, -1);
  HS_LAUNCH(1, 64, nullptr, early_exit_barrier_kernel)(out.data());
  for (int t = 0; t < kWarpSize; ++t) CATCH_CHECK(out[t] == (t + 1) % kWarpSize);
}

CATCH_TEST_CASE("emulated mma with mma.cuh's fragment layout is A·B + C", "[cuda_emu]") {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> small(-8, 8);  // exact in every type and every summation order
  auto run = [&](auto tag) {
    using T = decltype(tag);
    std::vector<T> a(16 * 16), b_t(8 * 16);
    std::vector<float> af(a.size()), bf(b_t.size());
    for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<T>(af[i] = static_cast<float>(small(rng)));
    for (size_t i = 0; i < b_t.size(); ++i) b_t[i] = static_cast<T>(bf[i] = static_cast<float>(small(rng)));
    std::vector<float> d(16 * 8, -1.f);
    HS_LAUNCH(1, kWarpSize, nullptr, mma_kernel<T>)(a.data(), b_t.data(), d.data());
    for (int r = 0; r < 16; ++r) {
      for (int c = 0; c < 8; ++c) {
        float want = 1.f;
        for (int k = 0; k < 16; ++k) want += af[r * 16 + k] * bf[c * 16 + k];
        CATCH_CHECK(d[r * 8 + c] == want);
      }
    }
  };
  run(__half{});
  run(__nv_bfloat16{});
}

CATCH_TEST_CASE("the emulator reports what CUDA leaves undefined", "[cuda_emu]") {
  std::vector<int> out(96, 0);
  CATCH_CHECK_THROWS_WITH(HS_LAUNCH(1, 32, nullptr, exited_lane_kernel)(out.data()),
                          Catch::Contains("exited"));
  CATCH_CHECK_THROWS_WITH(HS_LAUNCH(1, 96, nullptr, divergent_kernel)(out.data()), Catch::Contains("deadlock"));
  CATCH_CHECK_THROWS_WITH(HS_LAUNCH(1, 32, nullptr, mixed_collectives_kernel)(out.data()),
                          Catch::Contains("different collectives"));
  // A failed launch leaves the emulator usable.
  std::vector<int> neighbour(128), sums(128), lane3(128);
  HS_LAUNCH(1, 128, nullptr, exchange_kernel)(neighbour.data(), sums.data(), lane3.data());
  CATCH_CHECK(lane3[127] == 99);
}
