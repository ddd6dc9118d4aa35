#pragma once
// Golden fixtures (tests/golden/*.safetensors) as tensors, and the max-abs distance used to compare
// against them. For torch-based tests only.
#include <string>

#include <ATen/ATen.h>
#include <catch2/catch.hpp>

#include "model/safetensors.h"

namespace hs::test {

inline at::Tensor fixture(const hs::model::SafetensorsFile& f, const std::string& name) {
  const hs::model::TensorView& v = f.get(name);
  at::ScalarType st = at::kFloat;
  switch (v.dtype) {
    case hs::model::DType::F32: st = at::kFloat; break;
    case hs::model::DType::F64: st = at::kDouble; break;
    case hs::model::DType::I64: st = at::kLong; break;
    default: CATCH_FAIL("unexpected fixture dtype for " << name);
  }
  // Cloned through from_blob's copy: fixture data need not be aligned for the element type.
  return at::from_blob(const_cast<void*>(v.data), v.shape, at::TensorOptions().dtype(st)).clone();
}

inline double max_abs(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

}  // namespace hs::test
