#pragma once
// Runs the kernels of cuda/ on the CPU, so that their index arithmetic, barriers, shuffles and
// tensor-core fragments are tested on machines without a GPU. A kernel file compiles as C++ after
// this header (CMakeLists.txt writes one such wrapper per kernel file). Each block runs alone, its
// threads as cooperative fibers that switch at every barrier, shuffle, ldmatrix and mma, and
// __shared__ becomes a static local: one copy, for the block that is running. Collectives check
// what CUDA leaves undefined and a GPU would not report: a full-warp shuffle with a lane that has
// exited, lanes of a warp at different collectives, a barrier that can never complete.
//
// Only what the kernels use is emulated: 1-D blocks, full-warp masks, the ldmatrix and mma forms in
// mma.cuh, the cp.async forms in async_copy.cuh.
// Memory is host memory; launches are synchronous.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <type_traits>

#include "cuda_emu_stats.h"

#define HS_CUDA_EMULATION 1

#undef __shared__
#define __shared__ static
#define __launch_bounds__(...)
// Launches are synchronous and report through exceptions: there is no sticky error to fetch.
#define cudaGetLastError() cudaSuccess

namespace hs::emu {

struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
};

// The running fiber's coordinates; the scheduler sets them before every switch into a fiber.
extern Dim3 thread_idx, block_idx, block_dim, grid_dim;

// Runs body once per thread of every block of the grid.
void run_grid(dim3 grid, dim3 block, const std::function<void()>& body);

// The order in which the fibers run: a block's threads between collectives (after every barrier,
// the first in this order that can run goes first, then each until it waits, in this order), and
// a grid's blocks. A kernel that reads what another thread or block writes without a barrier
// between the two reads it in one of the two orders before it is written: its result then differs
// between them. So the kernel tests run under both: a stand-in, without a GPU, for
// compute-sanitizer's racecheck. The initial order is HEADSWEEP_EMU_SCHEDULE's (forward, the
// default, or reverse).
enum class Schedule { forward, reverse };
void set_schedule(Schedule s);
Schedule schedule();

// Collectives of the running fiber's warp or block.
void sync_block();
void sync_warp(unsigned mask);
// Every lane contributes `bytes` from `in`; after the warp's barrier, `read(slots)` sees all 32
// contributions (slot stride `bytes`).
void warp_exchange(unsigned mask, const void* in, size_t bytes, const std::function<void(const unsigned char*)>& read);

template <typename T>
T shfl(unsigned mask, T v, int src_lane) {
  static_assert(std::is_trivially_copyable_v<T>);
  T out;
  warp_exchange(mask, &v, sizeof(T), [&](const unsigned char* slots) {
    std::memcpy(&out, slots + static_cast<size_t>(src_lane & 31) * sizeof(T), sizeof(T));
  });
  return out;
}

// D = A·B + C for mma.m16n8k16 with fp32 accumulation, fragments laid out as the PTX ISA states
// for .row.col (see mma.cuh); T is __half or __nv_bfloat16.
template <typename T>
void mma_m16n8k16(float d[4], const uint32_t a[4], const uint32_t b[2], const float c[4]);

// ldmatrix.sync.aligned.m8n8.x4[.trans].shared.b16, as mma.cuh states it.
void ldmatrix_x4(uint32_t r[4], const void* row, bool trans);

// cp.async as async_copy.cuh states it. A copy lands when the issuing thread waits for its group;
// from its issue until then its 16 destination bytes hold a NaN pattern, so a read the kernel does
// not wait for (and, often, one not ordered after the issuer's wait by a barrier, or one of the old
// contents that the copy overwrites too early) reads garbage, as it may on a GPU. A thread that
// exits with copies it never waited for fails the launch.
void cp_async_16(void* dst, const void* src);
void cp_async_commit();
void cp_async_wait(int pending);

// Fails the launch when p is not aligned to `bytes`: a GPU faults on such a vector access, the
// CPU would not. `what` names the access in the report.
void check_aligned(const void* p, size_t bytes, const char* what = "access");

template <typename F>
struct Launcher {
  dim3 grid, block;
  F* kernel;
  template <typename... A>
  void operator()(A&&... args) const {
    run_grid(grid, block, [&] { kernel(args...); });
  }
};

template <typename F>
Launcher<F> launcher(dim3 grid, dim3 block, F* kernel) {
  return {grid, block, kernel};
}

}  // namespace hs::emu

// The kernels read these as CUDA's built-ins.
#define threadIdx ::hs::emu::thread_idx
#define blockIdx ::hs::emu::block_idx
#define blockDim ::hs::emu::block_dim
#define gridDim ::hs::emu::grid_dim

inline void __syncthreads() { hs::emu::sync_block(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) { hs::emu::sync_warp(mask); }
template <typename T>
T __shfl_sync(unsigned mask, T v, int src_lane, int = 32) {
  return hs::emu::shfl(mask, v, src_lane);
}
template <typename T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int = 32) {
  return hs::emu::shfl(mask, v, static_cast<int>(hs::emu::thread_idx.x % 32) ^ lane_mask);
}
// Fibers of one block never run at the same time, so a plain add is atomic.
inline float atomicAdd(float* p, float v) {
  const float old = *p;
  *p = old + v;
  return old;
}
inline float rsqrtf(float x) { return 1.f / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
using std::max;
using std::min;

#define HS_ASSERT_ALIGNED(p, bytes) ::hs::emu::check_aligned((p), (bytes))

// The kernels launch with HS_LAUNCH (common.cuh); here it runs the grid on the CPU.
#define HS_LAUNCH(grid, block, stream, ...) ::hs::emu::launcher(dim3(grid), dim3(block), __VA_ARGS__)
