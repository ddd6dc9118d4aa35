#pragma once
// cp.async (sm_80 and newer): 16-byte copies from global to shared memory that bypass registers and
// L1, issued now and waited for later, so a block's tile loads overlap its own arithmetic. Copies
// are committed in groups; wait_group N returns once at most the N most recently committed groups
// of this thread are still in flight. Other threads see the data only after a barrier that follows
// their own wait.
#include "common.cuh"

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
#error "cp.async needs sm_80 or newer (set CMAKE_CUDA_ARCHITECTURES to 80 or above)"
#endif

namespace hs::gpu {

// dst in shared memory, src in global memory, both 16-byte aligned.
__device__ __forceinline__ void cp_async_16(void* dst, const void* src) {
#ifdef HS_CUDA_EMULATION
  hs::emu::cp_async_16(dst, src);
#else
  const unsigned addr = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(addr), "l"(src) : "memory");
#endif
}

// Closes the group of this thread's copies issued since the last commit (possibly empty).
__device__ __forceinline__ void cp_async_commit() {
#ifdef HS_CUDA_EMULATION
  hs::emu::cp_async_commit();
#else
  asm volatile("cp.async.commit_group;\n" ::: "memory");
#endif
}

// Waits until at most kPending of this thread's committed groups, the newest, are in flight.
template <int kPending>
__device__ __forceinline__ void cp_async_wait() {
#ifdef HS_CUDA_EMULATION
  hs::emu::cp_async_wait(kPending);
#else
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending) : "memory");
#endif
}

}  // namespace hs::gpu
