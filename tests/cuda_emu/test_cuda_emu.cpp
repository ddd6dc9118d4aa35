// The CPU emulator that runs cuda/'s kernels in test_ops_emu: its barriers, shuffles and mma give
// what CUDA defines, and it reports what CUDA leaves undefined instead of returning a result.
#include "cuda_emu.h"

#include <catch2/catch.hpp>

#include <random>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "async_copy.cuh"
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

// The same product with fragments from ldmatrix, as the attention kernel loads them: A row-major
// (16, 16), B row-major (16, 8) read transposed; rows padded to 24 elements, as shared tiles are.
template <typename T>
__global__ void ldmatrix_mma_kernel(const T* a /* (16, 24) */, const T* b /* (16, 24) */, float* d /* (16, 8) */) {
  const int lane = threadIdx.x % kWarpSize, group = lane / 4, tig = lane % 4;
  uint32_t af[4], bf[4];
  hs::gpu::ldmatrix_x4<false>(af, a + (lane % 8 + 8 * ((lane / 8) % 2)) * 24 + 8 * (lane / 16));
  // Matrices 0 and 1: rows 0-7 and 8-15 of B's 8 columns; 2 and 3 repeat them.
  hs::gpu::ldmatrix_x4<true>(bf, b + (lane % 8 + 8 * ((lane / 8) % 2)) * 24);
  float acc[4] = {0.f, 0.f, 0.f, 0.f};
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

// Thread 1 reads a 16-byte pack one element past an aligned start.
__global__ void misaligned_pack_kernel(const __half* in, __half* out) {
  const __half* at = in + threadIdx.x;
  if (threadIdx.x < 2) hs::gpu::store_pack<__half, 8>(out, hs::gpu::load_pack<__half, 8>(at));
}

// Each thread copies 16 bytes (four ints) in each of three groups and snapshots its destination
// after waiting with 2, then 0 groups allowed in flight: snapshot s, group k in seen[s][k].
__global__ void cp_async_kernel(const int* src /* (3, threads, 4) */, int* seen /* (2, 3, threads, 4) */) {
  __shared__ __align__(16) int tile[3][32 * 4];
  const int t = threadIdx.x, n = blockDim.x;
  for (int k = 0; k < 3; ++k) {
    hs::gpu::cp_async_16(&tile[k][t * 4], src + (k * n + t) * 4);
    hs::gpu::cp_async_commit();
  }
  hs::gpu::cp_async_wait<2>();
  for (int k = 0; k < 3; ++k) {
    for (int e = 0; e < 4; ++e) seen[((0 * 3 + k) * n + t) * 4 + e] = tile[k][t * 4 + e];
  }
  hs::gpu::cp_async_wait<0>();
  for (int k = 0; k < 3; ++k) {
    for (int e = 0; e < 4; ++e) seen[((1 * 3 + k) * n + t) * 4 + e] = tile[k][t * 4 + e];
  }
}

__global__ void cp_async_unwaited_kernel(const int* src) {
  __shared__ __align__(16) int tile[32 * 4];
  hs::gpu::cp_async_16(&tile[threadIdx.x * 4], src + threadIdx.x * 4);
  hs::gpu::cp_async_commit();
  if (threadIdx.x != 7) hs::gpu::cp_async_wait<0>();
}

__global__ void cp_async_misaligned_kernel(const int* src) {
  __shared__ __align__(16) int tile[32 * 4];
  hs::gpu::cp_async_16(&tile[threadIdx.x * 4], src + threadIdx.x * 4 + (threadIdx.x == 3));
  hs::gpu::cp_async_commit();
  hs::gpu::cp_async_wait<0>();
}

__global__ void early_exit_barrier_kernel(int* out) {
  // Threads that have exited count as arrived at __syncthreads.
  if (threadIdx.x >= kWarpSize) return;
  __shared__ int v[kWarpSize];
  v[threadIdx.x] = static_cast<int>(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = v[(threadIdx.x + 1) % kWarpSize];
}

// Each thread publishes its id and reads both neighbours' with no barrier in between: a race,
// which a GPU and each of the emulator's two orders resolve as they happen to run. Thread 0 of
// each block also records the order in which the blocks ran.
__global__ void racy_neighbour_kernel(int* next /* (threads) */, int* prev /* (threads) */, int* block_order, int* ran) {
  __shared__ int ids[64];
  const int t = threadIdx.x, n = blockDim.x;
  ids[t] = -1;
  __syncthreads();
  ids[t] = t;
  if (blockIdx.x == 0) {
    next[t] = ids[(t + 1) % n];
    prev[t] = ids[(t + n - 1) % n];
  }
  if (t == 0) block_order[blockIdx.x] = (*ran)++;
}

// One ldmatrix.x4 per warp of four 8×8 matrices side by side (matrix i at column 8·i) in a tile of
// the given row stride (elements), or with every lane giving the tile's first row.
__global__ void ldmatrix_stride_kernel(const __half* tile, int stride, bool broadcast, uint32_t* out /* (32, 4) */) {
  const int lane = threadIdx.x % kWarpSize;
  uint32_t r[4];
  hs::gpu::ldmatrix_x4<false>(r, broadcast ? tile : tile + (lane % 8) * stride + 8 * (lane / 8));
  for (int i = 0; i < 4; ++i) out[lane * 4 + i] = r[i];
}

// Small integers: exact in fp16, bf16 and fp32, in every summation order.
float small(std::mt19937& rng) { return static_cast<float>(std::uniform_int_distribution<int>(-8, 8)(rng)); }

// d (16, 8) == a (16, 16) · b (16, 8) + c, all row-major.
void check_product(const std::vector<float>& d, const std::vector<float>& a, const std::vector<float>& b, float c) {
  for (int r = 0; r < 16; ++r) {
    for (int n = 0; n < 8; ++n) {
      float want = c;
      for (int k = 0; k < 16; ++k) want += a[r * 16 + k] * b[k * 8 + n];
      CATCH_CHECK(d[r * 8 + n] == want);
    }
  }
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
  auto run = [&](auto tag) {
    using T = decltype(tag);
    std::vector<float> af(16 * 16), bf(16 * 8);
    std::vector<T> a(af.size()), b_t(bf.size());
    for (size_t i = 0; i < af.size(); ++i) a[i] = static_cast<T>(af[i] = small(rng));
    for (int k = 0; k < 16; ++k) {
      for (int n = 0; n < 8; ++n) b_t[n * 16 + k] = static_cast<T>(bf[k * 8 + n] = small(rng));
    }
    std::vector<float> d(16 * 8, -1.f);
    HS_LAUNCH(1, kWarpSize, nullptr, mma_kernel<T>)(a.data(), b_t.data(), d.data());
    check_product(d, af, bf, 1.f);
  };
  run(__half{});
  run(__nv_bfloat16{});
}

CATCH_TEST_CASE("emulated ldmatrix loads the fragments mma.cuh states", "[cuda_emu]") {
  std::mt19937 rng(11);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    alignas(16) T a[16 * 24], b[16 * 24];
    std::vector<float> af(16 * 16), bf(16 * 8);
    for (int r = 0; r < 16; ++r) {
      for (int c = 0; c < 24; ++c) {
        const float x = small(rng), y = small(rng);
        a[r * 24 + c] = static_cast<T>(x);
        b[r * 24 + c] = static_cast<T>(y);
        if (c < 16) af[r * 16 + c] = x;
        if (c < 8) bf[r * 8 + c] = y;
      }
    }
    std::vector<float> d(16 * 8, -1.f);
    HS_LAUNCH(1, kWarpSize, nullptr, ldmatrix_mma_kernel<T>)(a, b, d.data());
    check_product(d, af, bf, 0.f);
  };
  run(__half{});
  run(__nv_bfloat16{});
}

CATCH_TEST_CASE("emulated ldmatrix counts the wavefronts its rows' banks take", "[cuda_emu]") {
  alignas(16) static __half tile[8 * 64 + 32];
  std::vector<uint32_t> out(kWarpSize * 4);
  // Row stride in bytes → the 16-byte bank groups of rows 0-7 → wavefronts per matrix:
  //   48 (24 elements, the shared tiles' padding): groups 0 3 6 1 4 7 2 5, conflict-free → 1;
  //   32: 0 2 4 6 0 2 4 6 → 2;   64: 0 4 0 4 … → 4;   128 (64 elements, an unpadded D = 64 tile): all 0 → 8.
  const auto [stride, broadcast, per_matrix] =
      GENERATE(std::tuple{24, false, 1}, std::tuple{16, false, 2}, std::tuple{32, false, 4}, std::tuple{64, false, 8},
               std::tuple{64, true, 1});  // one row for every lane: a broadcast, one wavefront
  CATCH_CAPTURE(stride, broadcast);
  hs::emu::reset_ldmatrix_stats();
  HS_LAUNCH(1, 2 * kWarpSize, nullptr, ldmatrix_stride_kernel)(tile, stride, broadcast, out.data());
  const hs::emu::LdmatrixStats s = hs::emu::ldmatrix_stats();
  CATCH_CHECK(s.matrices == 2 * 4);  // two warps, four matrices each
  CATCH_CHECK(s.wavefronts == s.matrices * per_matrix);
}

CATCH_TEST_CASE("emulated cp.async lands a group when its thread waits for it", "[cuda_emu]") {
  const int n = 32;
  std::vector<int> src(3 * n * 4), seen(2 * 3 * n * 4, 0);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<int>(i) + 1;
  HS_LAUNCH(1, n, nullptr, cp_async_kernel)(src.data(), seen.data());
  for (int k = 0; k < 3; ++k) {
    for (int i = 0; i < n * 4; ++i) {
      const int want = src[k * n * 4 + i];
      // After wait_group 2 only the oldest group has landed; the two in flight read as garbage.
      CATCH_CHECK(seen[(0 * 3 + k) * n * 4 + i] == (k == 0 ? want : -1));
      CATCH_CHECK(seen[(1 * 3 + k) * n * 4 + i] == want);
    }
  }
}

CATCH_TEST_CASE("the emulator reports what CUDA leaves undefined", "[cuda_emu]") {
  std::vector<int> out(96, 0);
  CATCH_CHECK_THROWS_WITH(HS_LAUNCH(1, 32, nullptr, exited_lane_kernel)(out.data()),
                          Catch::Contains("exited"));
  CATCH_CHECK_THROWS_WITH(HS_LAUNCH(1, 96, nullptr, divergent_kernel)(out.data()), Catch::Contains("deadlock"));
  CATCH_CHECK_THROWS_WITH(HS_LAUNCH(1, 32, nullptr, mixed_collectives_kernel)(out.data()),
                          Catch::Contains("different collectives"));
  alignas(16) __half halves[16] = {};
  alignas(16) __half copy[8];
  CATCH_CHECK_THROWS_WITH(HS_LAUNCH(1, 32, nullptr, misaligned_pack_kernel)(halves, copy),
                          Catch::Contains("16-byte access at a misaligned address (block (0, 0, 0), thread 1)"));
  alignas(16) int ints[32 * 4 + 4] = {};
  CATCH_CHECK_THROWS_WITH(HS_LAUNCH(1, 32, nullptr, cp_async_unwaited_kernel)(ints),
                          Catch::Contains("exited with cp.async copies it never waited for (block (0, 0, 0), thread 7)"));
  CATCH_CHECK_THROWS_WITH(HS_LAUNCH(1, 32, nullptr, cp_async_misaligned_kernel)(ints),
                          Catch::Contains("16-byte cp.async source at a misaligned address (block (0, 0, 0), thread 3)"));
  // A failed launch leaves the emulator usable.
  std::vector<int> neighbour(128), sums(128), lane3(128);
  HS_LAUNCH(1, 128, nullptr, exchange_kernel)(neighbour.data(), sums.data(), lane3.data());
  CATCH_CHECK(lane3[127] == 99);
}

CATCH_TEST_CASE("the emulator runs threads and blocks in either order, so a race gives two results", "[cuda_emu]") {
  using hs::emu::Schedule;
  struct Restore {
    Schedule saved = hs::emu::schedule();
    ~Restore() { hs::emu::set_schedule(saved); }
  } restore;
  const int n = 64, blocks = 3;
  auto run = [&](Schedule s) {
    hs::emu::set_schedule(s);
    std::vector<int> next(n), prev(n), order(blocks);
    int ran = 0;
    HS_LAUNCH(blocks, n, nullptr, racy_neighbour_kernel)(next.data(), prev.data(), order.data(), &ran);
    return std::make_tuple(next, prev, order);
  };
  const auto [next_f, prev_f, order_f] = run(Schedule::forward);
  const auto [next_r, prev_r, order_r] = run(Schedule::reverse);
  for (int t = 0; t < n; ++t) {
    // Forward, each thread runs before its right neighbour and after its left one (thread 0 sees
    // thread 63 not yet run); reverse, the other way round.
    CATCH_CHECK(next_f[t] == (t == n - 1 ? 0 : -1));
    CATCH_CHECK(prev_f[t] == (t == 0 ? -1 : t - 1));
    CATCH_CHECK(next_r[t] == (t == n - 1 ? -1 : t + 1));
    CATCH_CHECK(prev_r[t] == (t == 0 ? n - 1 : -1));
  }
  for (int b = 0; b < blocks; ++b) {
    CATCH_CHECK(order_f[b] == b);
    CATCH_CHECK(order_r[b] == blocks - 1 - b);
  }
  // A race-free kernel gives the same in both.
  for (Schedule s : {Schedule::forward, Schedule::reverse}) {
    hs::emu::set_schedule(s);
    std::vector<int> neighbour(2 * 128), sums(2 * 128), lane3(2 * 128);
    HS_LAUNCH(2, 128, nullptr, exchange_kernel)(neighbour.data(), sums.data(), lane3.data());
    for (int t = 0; t < 2 * 128; ++t) CATCH_CHECK(neighbour[t] == (t % 128 + 1) % 128 + 1000 * (t / 128));
  }
}
