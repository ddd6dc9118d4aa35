#pragma once
// A report of which BLAS the GEMMs actually run on (reference BLAS is ~50x slower than OpenBLAS).
#include <string>

namespace hs::cli {


struct BlasInfo {
  std::string library;  // path of the loaded BLAS shared object
  std::string vendor;   // "OpenBLAS", "reference BLAS", ...
  std::string config;   // OpenBLAS build configuration, when available
  std::string core;     // OpenBLAS kernel set in use, when available
  int threads = 0;      // BLAS threads, when the library reports them
};
BlasInfo blas_info();

// When OpenBLAS did not recognise this CPU and runs its generic x86 kernels (core "Prescott") on a
// CPU with AVX2 or AVX-512, and OPENBLAS_CORETYPE is not set: what to set, in one sentence.
// OpenBLAS 0.3.21 (Debian 12) predates e.g. Sapphire Rapids, where this costs about half the GEMM speed.
std::string generic_kernels_hint(const BlasInfo& blas);

// GFLOP/s of a (n x n) x (n x n) float32 matmul, best of a few runs.
double matmul_gflops(int n);

}  // namespace hs::cli
