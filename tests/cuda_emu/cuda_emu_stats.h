#pragma once
// What the emulator counts while kernels run, for tests that hold a kernel to the shared-memory
// access pattern it was written for. Free of cuda_emu.h's macros, so any test can include it.
#include <cstdint>

namespace hs::emu {

// ldmatrix reads each 8×8 matrix as one request of eight 16-byte rows. Shared memory serves 32
// four-byte banks, 128 bytes, per wavefront, so rows whose addresses agree in bits 4-6 and differ
// elsewhere are served one after another: a request takes as many wavefronts as the most distinct
// rows that fall on one group of four banks (rows at the same address are one broadcast). A
// request of one wavefront is conflict-free; eight is the worst (every row on the same banks).
// Depends only on the rows' addresses relative to one another, so it holds for the GPU's shared
// memory whatever host addresses the emulator's __shared__ arrays have (ldmatrix needs 16-byte
// aligned rows, which the emulator checks).
struct LdmatrixStats {
  uint64_t matrices = 0;    // 8×8 matrices read (four per ldmatrix.x4)
  uint64_t wavefronts = 0;  // wavefronts they take; equal to matrices when conflict-free
};

// Counts since the last reset, over every launch.
LdmatrixStats ldmatrix_stats();
void reset_ldmatrix_stats();

}  // namespace hs::emu
