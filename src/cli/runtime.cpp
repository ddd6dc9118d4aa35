#include "cli/runtime.h"

#include <dlfcn.h>
#include <link.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include <fmt/format.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

namespace hs::cli {
namespace {

int find_blas(dl_phdr_info* info, size_t, void* out) {
  const std::string name = info->dlpi_name ? info->dlpi_name : "";
  const std::string base = name.substr(name.find_last_of('/') + 1);
  if (base.rfind("libblas", 0) == 0 || base.rfind("libopenblas", 0) == 0 || base.rfind("libmkl", 0) == 0) {
    *static_cast<std::string*>(out) = name;
    return 1;
  }
  return 0;
}

}  // namespace


BlasInfo blas_info() {
  BlasInfo info;
  // The library that resolves sgemm_ is the one libtorch's GEMMs call. Another BLAS (e.g. the
  // OpenBLAS behind LAPACK) may be loaded too, so vendor symbols are looked up in that library only.
  Dl_info where{};
  void* sgemm = dlsym(RTLD_DEFAULT, "sgemm_");
  if (sgemm && dladdr(sgemm, &where) && where.dli_fname) info.library = where.dli_fname;
  if (info.library.empty()) dl_iterate_phdr(find_blas, &info.library);
  void* lib = info.library.empty() ? nullptr : dlopen(info.library.c_str(), RTLD_LAZY | RTLD_NOLOAD);
  auto sym = [&](const char* name) { return lib ? dlsym(lib, name) : nullptr; };
  if (auto cfg = reinterpret_cast<char* (*)()>(sym("openblas_get_config"))) {
    info.vendor = "OpenBLAS";
    info.config = cfg();
    if (auto core = reinterpret_cast<char* (*)()>(sym("openblas_get_corename"))) info.core = core();
    if (auto nt = reinterpret_cast<int (*)()>(sym("openblas_get_num_threads"))) info.threads = nt();
  } else if (info.library.find("mkl") != std::string::npos) {
    info.vendor = "MKL";
  } else if (info.library.find("libtorch") != std::string::npos) {
    // PyTorch's own builds link their BLAS (MKL on x86) into libtorch_cpu.
    info.vendor = at::hasMKL() ? "MKL (linked into libtorch)" : "linked into libtorch";
  } else if (!info.library.empty()) {
    info.vendor = "reference BLAS (slow: install libopenblas0-pthread)";
  } else {
    info.vendor = "none found";
  }
  if (lib) dlclose(lib);
  return info;
}

std::string generic_kernels_hint(const BlasInfo& blas) {
  if (blas.vendor != "OpenBLAS" || blas.core != "Prescott" || std::getenv("OPENBLAS_CORETYPE")) return "";
  __builtin_cpu_init();
  const char* better = __builtin_cpu_supports("avx512f") ? "SkylakeX" : __builtin_cpu_supports("avx2") ? "Haswell" : nullptr;
  if (!better) return "";
  return fmt::format("OpenBLAS did not recognise this CPU and runs its generic kernels (Prescott); set "
                     "OPENBLAS_CORETYPE={} (this CPU has {}) for its faster ones",
                     better, std::string(better) == "SkylakeX" ? "AVX-512" : "AVX2");
}

double matmul_gflops(int n) {
  const at::Tensor a = at::randn({n, n}), b = at::randn({n, n});
  at::Tensor c = at::mm(a, b);  // warm-up: thread pools, page faults
  double best = 0;
  for (int i = 0; i < 3; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    c = at::mm(a, b);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, 2.0 * n * n * n / s / 1e9);
  }
  return best;
}

}  // namespace hs::cli
