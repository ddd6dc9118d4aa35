#include <H5public.h>
#include <torch/version.h>

#include <ATen/Parallel.h>
#include <cstdlib>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/runtime.h"
#include "model/device.h"
#include "model/threads.h"

namespace hs::cli {

void add_env_command(CLI::App& app, int* status) {
  auto* cmd = app.add_subcommand("env", "Print versions, threads, the BLAS library in use and its matmul speed");
  auto threads = std::make_shared<int>(0);
  cmd->add_option("--threads", *threads, "threads to use (0 = all cores)")->check(CLI::Range(0, 4096));
  cmd->callback([threads, status] {
    const int n = model::set_compute_threads(*threads);
    const BlasInfo blas = blas_info();
    unsigned maj = 0, min = 0, rel = 0;
    H5get_libversion(&maj, &min, &rel);
    fmt::print("headsweep   {}\n", HEADSWEEP_VERSION);
    fmt::print("libtorch    {}\n", TORCH_VERSION);
    fmt::print("HDF5        {}.{}.{}\n", maj, min, rel);
    fmt::print("CUDA        {}\n", model::cuda_summary());
    fmt::print("CPU         {}\n", model::device_name(c10::Device(c10::kCPU)));
    fmt::print("cores       {}\n", model::available_cores());
    fmt::print("threads     {} (libtorch intra-op {})\n", n, at::get_num_threads());
    fmt::print("BLAS        {}{}\n", blas.vendor, blas.library.empty() ? "" : " (" + blas.library + ")");
    if (!blas.config.empty()) fmt::print("BLAS config {}\n", blas.config);
    if (!blas.core.empty()) fmt::print("BLAS core   {}{}\n", blas.core, blas.threads ? fmt::format(", {} threads", blas.threads) : "");
    const char* coretype = std::getenv("OPENBLAS_CORETYPE");
    if (coretype) fmt::print("OPENBLAS_CORETYPE {}\n", coretype);
    if (const std::string hint = generic_kernels_hint(blas); !hint.empty()) fmt::print("BLAS hint   {}\n", hint);
    fmt::print("matmul      {:.1f} GFLOP/s (1024x1024x1024 float32)\n", matmul_gflops(1024));
    *status = 0;
  });
}

}  // namespace hs::cli
