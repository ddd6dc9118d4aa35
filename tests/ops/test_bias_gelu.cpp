// ops::bias_gelu_: the composite against the erf and tanh formulas; the CUDA kernel against the
// composite in fp64 (skipped without a CUDA device).
#include <catch2/catch.hpp>

#include <cmath>

#include <ATen/ATen.h>

#include "kernel_harness.h"
#include "ops/gelu.h"
#include "test_env.h"

CATCH_TEST_CASE("bias + GELU composite equals the erf and tanh formulas", "[ops]") {
  const at::Tensor x0 = at::linspace(-6, 6, 121, at::kDouble).view({11, 11});
  const at::Tensor bias = at::linspace(-0.5, 0.5, 11, at::kDouble);
  for (bool tanh_approx : {false, true}) {
    at::Tensor x = x0.clone();
    hs::ops::bias_gelu_(x, bias, tanh_approx);
    for (int64_t i = 0; i < 11; ++i) {
      for (int64_t j = 0; j < 11; ++j) {
        const double v = x0[i][j].item<double>() + bias[j].item<double>();
        const double want = tanh_approx ? 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)))
                                        : 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
        CATCH_CHECK(std::abs(x[i][j].item<double>() - want) < 1e-12);
      }
    }
  }
}

CATCH_TEST_CASE("bias + GELU rejects a bias the kernel cannot read as a (cols) array", "[ops]") {
  at::Tensor x = at::zeros({3, 8});
  CATCH_CHECK_THROWS_WITH(hs::ops::bias_gelu_(x, at::ones({8, 2}).select(1, 0), false),
                          Catch::Contains("must be contiguous"));
  CATCH_CHECK_THROWS_WITH(hs::ops::bias_gelu_(x, at::ones({7}), false), Catch::Contains("(cols=8)"));
}

#ifdef HEADSWEEP_HAS_CUDA
#include "bias_gelu.h"

namespace {

struct GeluShape {
  int64_t rows, cols;
  bool misaligned = false;  // x one element past a 16-byte boundary: the element-wise path
};

// Packed (cols a multiple of 8) and element-wise (7) rows; 97 rows end in a group of one of the
// kernel's 4-row groups; 270,000 rows stride past the grid's 65,535 groups.
std::vector<GeluShape> gelu_shapes() {
  if (hs::test::quick_kernel_tests()) return {{97, 7}, {97, 1536}, {97, 1536, true}};
  return {{1, 7}, {97, 7}, {1, 1536}, {97, 1536}, {97, 3072}, {97, 1536, true}, {270000, 8}};
}

}  // namespace

CATCH_TEST_CASE("bias + GELU kernel matches the fp64 composite", "[cuda]") {
  if (!hs::test::kernels_runnable()) HS_SKIP_WITHOUT_DEVICE();
  const hs::test::DTypeCase dt = GENERATE(Catch::Generators::from_range(hs::test::dtype_cases()));
  const bool tanh_approx = GENERATE(false, true);
  const GeluShape shape = GENERATE(Catch::Generators::from_range(gelu_shapes()));
  const bool with_bias = GENERATE(true, false);
  const int64_t rows = shape.rows, cols = shape.cols;
  const uint64_t seed = hs::test::fresh_seed();
  CATCH_CAPTURE(dt.name, tanh_approx, rows, cols, shape.misaligned, with_bias, seed);
  at::manual_seed(seed);
  const at::Tensor x = (at::randn({rows, cols}) * 3).to(dt.dtype), bias = at::randn({cols}).to(dt.dtype);
  at::Tensor ref = x.to(at::kDouble);
  hs::ops::bias_gelu_cpu_(ref, with_bias ? bias.to(at::kDouble) : at::Tensor(), tanh_approx);
  const size_t shift_bytes = shape.misaligned ? x.element_size() : 0;
  hs::test::DeviceBuffer x_d(at::cat({at::zeros({shape.misaligned ? 1 : 0}, x.options()), x.flatten()})), b_d(bias);
  hs::gpu::BiasGeluParams p;
  p.x = static_cast<char*>(x_d.get()) + shift_bytes;
  p.bias = with_bias ? b_d.get() : nullptr;
  p.rows = rows;
  p.cols = cols;
  p.tanh_approx = tanh_approx;
  p.dtype = dt.kernel;
  hs::gpu::bias_gelu_launch(p, nullptr);
  hs::test::check_close(x_d.download({rows, cols}, dt.dtype, shift_bytes).to(at::kDouble), ref, dt, "bias_gelu");
}
#endif
