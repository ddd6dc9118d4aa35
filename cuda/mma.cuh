#pragma once
// Tensor-core primitives (sm_80 and newer): mma.sync m16n8k16 with 16-bit inputs and fp32
// accumulation, and the 32-bit registers its fragments are built from. Fragment layouts are the PTX
// ISA's for .row.col, lane = 4·group + tig:
//   A (16×16): register r holds row group + 8·(r % 2), columns 2·tig + 8·(r / 2) + {0, 1};
//   B (16×8):  register r holds rows 2·tig + 8·r + {0, 1} of column group;
//   C, D (16×8, fp32): element i is row group + 8·(i / 2), column 2·tig + i % 2;
// the low half of a register holds the element with the smaller index. ldmatrix loads such
// fragments from shared memory, 8×8 matrices at a time.
#include <cstdint>
#include <type_traits>

#include "common.cuh"

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
#error "headsweep's tensor-core kernels need sm_80 or newer (set CMAKE_CUDA_ARCHITECTURES to 80 or above)"
#endif

namespace hs::gpu {

// Two adjacent 16-bit elements (the lower index in the low half); p is 4-byte aligned.
template <typename T>
__device__ __forceinline__ uint32_t load_pair(const T* p) {
  HS_ASSERT_ALIGNED(p, sizeof(uint32_t));
  return *reinterpret_cast<const uint32_t*>(p);
}

template <typename T>
__device__ __forceinline__ void store_pair(T* p, uint32_t two) {
  HS_ASSERT_ALIGNED(p, sizeof(uint32_t));
  *reinterpret_cast<uint32_t*>(p) = two;
}

template <typename T>
__device__ __forceinline__ uint32_t pair(T lo, T hi) {
  return static_cast<uint32_t>(*reinterpret_cast<const uint16_t*>(&lo)) |
         static_cast<uint32_t>(*reinterpret_cast<const uint16_t*>(&hi)) << 16;
}

template <typename T>
__device__ __forceinline__ uint32_t pair_from_floats(float lo, float hi) {
  return pair(from_float<T>(lo), from_float<T>(hi));
}

// ldmatrix.sync.aligned.m8n8.x4[.trans].shared.b16: four 8×8 matrices of 16-bit elements; lane
// 8·i + r gives the address of row r of matrix i (shared memory, 16-byte aligned). Lane 4·group + tig
// receives in r[i] row group, columns 2·tig and 2·tig + 1 of matrix i, or with kTrans rows 2·tig and
// 2·tig + 1 of column group (the low half holding the first).
template <bool kTrans>
__device__ __forceinline__ void ldmatrix_x4(uint32_t r[4], const void* row) {
#ifdef HS_CUDA_EMULATION
  hs::emu::ldmatrix_x4(r, row, kTrans);
#else
  const unsigned addr = static_cast<unsigned>(__cvta_generic_to_shared(row));
  if constexpr (kTrans) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
  } else {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
  }
#endif
}

// d += a·b for one warp: a 16×16 tile of A, an 16×8 tile of B, d the 16×8 fp32 accumulator.
template <typename T>
__device__ __forceinline__ void mma_16816(float d[4], const uint32_t a[4], const uint32_t b[2]) {
  static_assert(std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>, "mma inputs are fp16 or bf16");
#ifdef HS_CUDA_EMULATION
  hs::emu::mma_m16n8k16<T>(d, a, b, d);
#else
  if constexpr (std::is_same_v<T, __half>) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  } else {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
#endif
}

}  // namespace hs::gpu
