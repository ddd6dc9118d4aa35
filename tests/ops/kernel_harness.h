#pragma once
// Device buffers and dtype tolerances for kernel tests, which call launchers directly (no CUDA
// libtorch needed): inputs are made with libtorch on the CPU and copied over. Built with
// HEADSWEEP_CUDA_EMULATION, the same tests run the kernels on the CPU (tests/cuda_emu), where
// device memory is host memory.
#include <cstdint>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#ifdef HEADSWEEP_HAS_CUDA
#include <cstring>

#include <cuda_runtime_api.h>

#include "check.h"
#include "dtype.h"
#ifdef HEADSWEEP_CUDA_EMULATION
#include "cuda_emu_stats.h"
#endif

namespace hs::test {

#ifdef HEADSWEEP_CUDA_EMULATION
constexpr bool kEmulated = true;
#else
constexpr bool kEmulated = false;
#endif

// Where the kernels can run: a CUDA device, or always under the emulator.
inline bool kernels_runnable() { return kEmulated || gpu::cuda_device_available(); }

struct DTypeCase {
  std::string name;
  at::ScalarType dtype;
  gpu::DType kernel;
  double atol, rtol;  // |kernel - ref| <= atol + rtol·|ref|
};

// fp32: accumulation-order noise only; fp16/bf16: about two units of the output's last place
// (2^-10 and 2^-7 relative), since the kernel rounds once on the way out.
inline std::vector<DTypeCase> dtype_cases() {
  return {{"float32", at::kFloat, gpu::DType::F32, 1e-5, 1e-4},
          {"float16", at::kHalf, gpu::DType::F16, 1e-3, 2e-3},
          {"bfloat16", at::kBFloat16, gpu::DType::BF16, 8e-3, 1.6e-2}};
}

// HEADSWEEP_QUICK_KERNEL_TESTS set, or the emulator: the largest sizes are left out (compute-sanitizer
// and the emulator are orders of magnitude slower than the kernels).
inline bool quick_kernel_tests() { return kEmulated || std::getenv("HEADSWEEP_QUICK_KERNEL_TESTS") != nullptr; }

// A new seed each call (HEADSWEEP_TEST_SEED replays one).
inline uint64_t fresh_seed() {
  if (const char* s = std::getenv("HEADSWEEP_TEST_SEED")) return std::strtoull(s, nullptr, 10);
  return (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
}

class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t bytes) : bytes_(bytes) {
    if constexpr (kEmulated) {
      // cudaMalloc's alignment, and not a byte more than asked for: under AddressSanitizer a read
      // or write past the end is reported, as compute-sanitizer's memcheck reports it on a GPU.
      if (posix_memalign(&ptr_, 256, bytes_ ? bytes_ : 1) != 0) throw std::bad_alloc();
    } else {
      HS_CUDA_CHECK(cudaMalloc(&ptr_, bytes_ ? bytes_ : 1));
    }
  }
  explicit DeviceBuffer(const at::Tensor& host) : DeviceBuffer(host.numel() * host.element_size()) {
    const at::Tensor c = host.contiguous();
    copy(ptr_, c.data_ptr(), bytes_, cudaMemcpyHostToDevice);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    if constexpr (kEmulated) {
      std::free(ptr_);
    } else {
      cudaFree(ptr_);
    }
  }

  void* get() const { return ptr_; }
  // All bits set: NaN in fp32, fp16 and bf16, so an element the kernel forgets to write fails.
  void poison() {
    if constexpr (kEmulated) {
      std::memset(ptr_, 0xFF, bytes_);
    } else {
      HS_CUDA_CHECK(cudaMemset(ptr_, 0xFF, bytes_));
    }
  }
  // The buffer's contents from offset_bytes on (a tensor placed off its start, e.g. misaligned).
  at::Tensor download(std::vector<int64_t> shape, at::ScalarType dtype, size_t offset_bytes = 0) const {
    if constexpr (!kEmulated) HS_CUDA_CHECK(cudaDeviceSynchronize());
    at::Tensor t = at::empty(shape, dtype);
    copy(t.data_ptr(), static_cast<const char*>(ptr_) + offset_bytes, t.numel() * t.element_size(),
         cudaMemcpyDeviceToHost);
    return t;
  }

 private:
  static void copy(void* to, const void* from, size_t bytes, cudaMemcpyKind kind) {
    if constexpr (kEmulated) {
      std::memcpy(to, from, bytes);
    } else {
      HS_CUDA_CHECK(cudaMemcpy(to, from, bytes, kind));
    }
  }

  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// Checks got against want (both fp64) within dt's tolerance; on failure prints the first mismatches
// with their indices.
inline void check_close(const at::Tensor& got, const at::Tensor& want, const DTypeCase& dt, const std::string& what) {
  const at::Tensor bad = (got - want).abs() > dt.atol + dt.rtol * want.abs() | got.isnan();
  const int64_t n_bad = bad.sum().item<int64_t>();
  if (n_bad > 0) {
    const at::Tensor idx = bad.nonzero().slice(0, 0, 5).contiguous();  // nonzero may return it column-major
    std::string msg = fmt::format("{}: {} of {} elements off ({}):", what, n_bad, got.numel(), dt.name);
    for (int64_t i = 0; i < idx.size(0); ++i) {
      std::vector<int64_t> pos(idx[i].data_ptr<int64_t>(), idx[i].data_ptr<int64_t>() + idx.size(1));
      at::Tensor g = got, w = want;
      for (int64_t p : pos) {
        g = g[p];
        w = w[p];
      }
      msg += fmt::format(" [{}] got {} want {};", fmt::join(pos, ","), g.item<double>(), w.item<double>());
    }
    CATCH_FAIL(msg);
  }
}

}  // namespace hs::test
#endif
