#pragma once
// Compute threads of this process. libtorch's intra-op pool and OpenBLAS's own pthread pool are
// separate: left alone, OpenBLAS ignores libtorch's setting, so both are always set together.
namespace hs::model {

// Cores this process may run on (its CPU affinity), at least 1.
int available_cores();

// Threads each GEMM and elementwise op may use from now on, in libtorch and in OpenBLAS (when it
// is the BLAS in use). n = 0 uses available_cores(). Returns the count set.
int set_compute_threads(int n);

// The current libtorch intra-op thread count.
int compute_threads();

}  // namespace hs::model
