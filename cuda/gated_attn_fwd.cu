// out[t, h] = g[row(b), h] · Σ_j softmax_j(scale · q[t, h]·k[j, h]) v[j, h] over the real keys j of
// t's sequence b (flash-style online softmax, so T is bounded only by the grid).
// This is the SIMT kernel, for fp32 storage and for fp16/bf16 rows the tensor-core kernel
// (gated_attn_mma.cu) cannot load 16 bytes at a time; the launcher picks.
// Grid: x over (sequence, 16-query tile) pairs, y over heads (attn_grid); block: 4 warps, each owning
// 4 query rows. Key/value tiles of 32
// rows are staged in shared memory as fp32; within a tile lane j scores key j (no shuffles per key),
// then each lane accumulates D/32 output columns. fp32 arithmetic for every storage type; a gated-off
// head exits before touching Q, K or V. Tested by tests/ops/test_gated_attn.cpp against
// ops::gated_attn_fwd_cpu in fp64.
#include "gated_attn_detail.cuh"

#include <cmath>

#include "common.cuh"

namespace hs::gpu {
namespace {

constexpr int kWarps = 4;
constexpr int kRowsPerWarp = 4;
constexpr int kQueries = kWarps * kRowsPerWarp;
constexpr int kKeyTile = kWarpSize;

// ---- kernels

template <typename T, int D>
__global__ void __launch_bounds__(kWarps * kWarpSize) gated_attn_fwd_kernel(const GatedAttnParams p) {
  constexpr int kCols = D / kWarpSize;  // output columns per lane
  const auto [b, q0] = block_coords(p, kQueries);
  const int h = blockIdx.y;
  const SeqSpan seq = seq_span(p, b);
  if (q0 >= seq.n_queries) return;
  T* out = static_cast<T*>(p.out);
  const float g = p.gates ? p.gates[(p.gate_row ? p.gate_row[b] : 0) * p.H + h] : 1.f;
  if (g == 0.f) {
    for (int i = threadIdx.x; i < kQueries * D; i += blockDim.x) {
      const int r = q0 + i / D;
      if (r < seq.n_queries) out[(seq.start + r) * p.out_row_stride + h * D + i % D] = from_float<T>(0.f);
    }
    return;
  }

  // +1 column: lane j reads row j of k_tile, so consecutive lanes fall in different banks.
  __shared__ float k_tile[kKeyTile][D + 1];
  __shared__ float v_tile[kKeyTile][D];
  __shared__ float q_rows[kQueries][D];

  const T* q = static_cast<const T*>(p.q);
  const T* k = static_cast<const T*>(p.k);
  const T* v = static_cast<const T*>(p.v);
  for (int i = threadIdx.x; i < kQueries * D; i += blockDim.x) {
    const int r = i / D, d = i % D;
    const int t = q0 + r;
    q_rows[r][d] = t < seq.n_queries ? to_float(q[(seq.start + t) * p.q_row_stride + h * D + d]) * p.scale : 0.f;
  }

  const int warp = threadIdx.x / kWarpSize, lane = threadIdx.x % kWarpSize;
  float m[kRowsPerWarp], l[kRowsPerWarp], s0[kRowsPerWarp], acc[kRowsPerWarp][kCols];
#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
    m[r] = -INFINITY;
    l[r] = 0.f;
    s0[r] = 0.f;
#pragma unroll
    for (int c = 0; c < kCols; ++c) acc[r][c] = 0.f;
  }

  for (int j0 = 0; j0 < seq.n_keys; j0 += kKeyTile) {
    __syncthreads();  // the previous tile is no longer read (and q_rows is written, on the first pass)
    for (int i = threadIdx.x; i < kKeyTile * D; i += blockDim.x) {
      const int j = i / D, d = i % D;
      const bool real = j0 + j < seq.n_keys;
      const int64_t t = seq.start + j0 + j;
      k_tile[j][d] = real ? to_float(k[t * p.k_row_stride + h * D + d]) : 0.f;
      v_tile[j][d] = real ? to_float(v[t * p.v_row_stride + h * D + d]) : 0.f;
    }
    __syncthreads();
    const int n_tile = min(kKeyTile, seq.n_keys - j0);
    const bool key_real = lane < n_tile;
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
      const int row = warp * kRowsPerWarp + r;
      if (q0 + row >= seq.n_queries) break;  // warp-uniform
      float s = 0.f;
#pragma unroll 8
      for (int d = 0; d < D; ++d) s += q_rows[row][d] * k_tile[lane][d];
      s = key_real ? s : -INFINITY;
      if (j0 == 0) s0[r] = __shfl_sync(0xffffffffu, s, 0);
      const float m_new = fmaxf(m[r], warp_max(s));
      const float pj = key_real ? expf(s - m_new) : 0.f;
      const float rescale = expf(m[r] - m_new);  // 0 on the first tile (m = -inf)
      l[r] = l[r] * rescale + warp_sum(pj);
#pragma unroll
      for (int c = 0; c < kCols; ++c) acc[r][c] *= rescale;
      for (int j = 0; j < n_tile; ++j) {
        const float pjj = __shfl_sync(0xffffffffu, pj, j);
#pragma unroll
        for (int c = 0; c < kCols; ++c) acc[r][c] += pjj * v_tile[j][c * kWarpSize + lane];
      }
      m[r] = m_new;
    }
  }

#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
    const int t = q0 + warp * kRowsPerWarp + r;
    if (t >= seq.n_queries) break;
    const float inv = l[r] > 0.f ? g / l[r] : 0.f;  // no real key at all: zeros, not NaN
#pragma unroll
    for (int c = 0; c < kCols; ++c) {
      out[(seq.start + t) * p.out_row_stride + h * D + c * kWarpSize + lane] = from_float<T>(acc[r][c] * inv);
    }
    if (p.cls_mass && lane == 0 && t < seq.n_keys && l[r] > 0.f) {
      atomicAdd(&p.cls_mass[b * p.H + h], expf(s0[r] - m[r]) / l[r] / seq.n_keys);
    }
  }
}

template <typename T, int D>
void launch_typed(const GatedAttnParams& p, cudaStream_t stream) {
  HS_LAUNCH(attn_grid(p, kQueries), kWarps * kWarpSize, stream, gated_attn_fwd_kernel<T, D>)(p);
}

}  // namespace

// ---- launcher

void gated_attn_fwd_launch(const GatedAttnParams& p, cudaStream_t stream) {
  if (p.B == 0 || p.H == 0 || p.max_seqlen == 0) return;
  if (!p.cu_seqlens && !p.key_lens) throw std::invalid_argument("gated_attn_fwd: padded layout needs key_lens");
  if (gated_attn_mma_fits(p)) {
    gated_attn_mma_launch(p, stream);
  } else {
    dispatch_dtype(p.dtype, [&](auto tag) {
      dispatch_head_dim(p.D, [&](auto d) { launch_typed<decltype(tag), decltype(d)::value>(p, stream); });
    });
  }
  HS_CUDA_CHECK(cudaGetLastError());
}

}  // namespace hs::gpu
