#pragma once
// Plain-loop fp64 versions of the ops, written from the formulas alone: they check the libtorch
// composites, which are in turn the references for the CUDA kernels.
#include <cmath>
#include <vector>

#include <ATen/ATen.h>

namespace hs::test {

// (B, T, H, D) like ops::gated_attn_fwd; gates (G, H) and gate_row (B) may be undefined.
inline at::Tensor gated_attn_loops(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                   const std::vector<int>& key_lens, const at::Tensor& gates,
                                   const std::vector<int>& gate_row, double scale) {
  const int64_t B = q.size(0), T = q.size(1), H = q.size(2), D = q.size(3);
  auto qa = q.accessor<double, 4>(), ka = k.accessor<double, 4>(), va = v.accessor<double, 4>();
  at::Tensor out = at::zeros({B, T, H, D}, at::kDouble);
  auto oa = out.accessor<double, 4>();
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t h = 0; h < H; ++h) {
      const double g = gates.defined() ? gates[gate_row.empty() ? 0 : gate_row[b]][h].item<double>() : 1.0;
      for (int64_t t = 0; t < T; ++t) {
        std::vector<double> s(key_lens[b]);
        double m = -INFINITY, z = 0;
        for (int j = 0; j < key_lens[b]; ++j) {
          double dot = 0;
          for (int64_t d = 0; d < D; ++d) dot += qa[b][t][h][d] * ka[b][j][h][d];
          s[j] = dot * scale;
          m = std::max(m, s[j]);
        }
        for (double& x : s) z += (x = std::exp(x - m));
        for (int j = 0; j < key_lens[b]; ++j) {
          for (int64_t d = 0; d < D; ++d) oa[b][t][h][d] += g * s[j] / z * va[b][j][h][d];
        }
      }
    }
  }
  return out;
}

}  // namespace hs::test
