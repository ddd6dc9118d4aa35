// gated_attn_fwd on tensor cores, for fp16 and bf16 storage (FlashAttention-2's scheme on mma.sync).
// Grid: x over (sequence, 16·W-query tile) pairs, y over heads (attn_grid); block: W warps, each owning
// 16 query rows: 1, 2 or 4, the
// fewest that cover T (so short sequences leave no warp idle), and 8 for T > 64 at D ≤ 64. Q, key
// and value tiles (64 rows, or 16·W for W < 4) reach shared memory by cp.async (rows padded by 16
// bytes, so ldmatrix's eight rows fall in different banks), each in its own commit group: Q, K and V
// of the first tile are in flight together, S = Q·Kᵀ runs while V is still arriving, and in blocks
// of 8 warps the next tile's K and V load into a second buffer while this one is used. Fragments
// come from ldmatrix (V's transposed on the way), and S = Q·Kᵀ and O += P·V run on mma.m16n8k16 with
// fp32 accumulation. The accumulator layout
// of two adjacent 8-key tiles of S is the A-fragment layout of one 16-key step of P·V, so the
// probabilities go from registers to registers and never through shared memory. Online softmax in
// base 2. P is rounded to the storage type for the second product, and the row sums add the rounded
// values, so each output row is a convex combination of V's rows with the weights actually used. Key
// steps past a sequence's end are skipped, and tile rows past it are neither loaded nor read. A
// gated-off head exits before touching Q, K or V. Tested by tests/ops/test_gated_attn.cpp against
// ops::gated_attn_fwd_cpu in fp64, on a GPU and under the CPU emulator.
#include <cmath>

#include "async_copy.cuh"
#include "gated_attn_detail.cuh"
#include "mma.cuh"

namespace hs::gpu {
namespace {

constexpr int kRows = 16;  // query rows per warp: mma's M

// Keys per shared-memory tile: 64 for blocks of 4 or 8 warps; a block of 1 or 2 warps serves
// sequences of at most 16 or 32 tokens, so its tile is that tall and shared memory does not cap the
// blocks per SM.
template <int kWarps>
constexpr int kTileKeys = kWarps >= 4 ? 64 : kWarps * kRows;
constexpr float kLog2e = 1.4426950408889634f;

// Row stride of the shared tiles in elements: 8 more than D (16 bytes), so the 8 rows one ldmatrix
// phase reads start in different banks.
template <int D>
constexpr int kStride = D + 8;

// Key/value buffers: two (load the next tile during this one) for blocks of 8 warps, which serve
// sequences longer than one tile at D ≤ 64 (36 KB at D = 64); one otherwise. Blocks of 4 warps span
// several tiles only at D = 128, where two buffers would not fit 48 KB of static shared memory.
template <int kWarps>
constexpr int kStages = kWarps == 8 ? 2 : 1;

// Blocks per SM the register allocation must allow: 16 warps hide the tile loads' latency at
// D ≤ 64 (at most 128 registers, no spills); D = 128 needs its ~220 registers.
template <int D, int kWarps>
constexpr int kMinBlocks = D <= 64 ? 16 / kWarps : 1;

// ---- kernels

template <typename T>
__device__ __forceinline__ Pack<T, kPackBytes / sizeof(T)> zero_pack() {
  Pack<T, kPackBytes / sizeof(T)> z;
#pragma unroll
  for (int e = 0; e < kPackBytes / static_cast<int>(sizeof(T)); ++e) z.v[e] = from_float<T>(0.f);
  return z;
}

// Issues the copy of rows [0, n) of src (row stride in elements) into tile and zeros rows
// [n, n rounded up to 16), the last rows an mma step reads, then (unless told not to) commits them
// as one group. Rows beyond are never read: key steps and query warps past the sequence's end are
// skipped.
template <typename T, int D, int kThreads>
__device__ __forceinline__ void load_tile_async(T* tile, const T* src, int64_t row_stride, int n, bool commit = true) {
  constexpr int V = kPackBytes / sizeof(T), kPacksPerRow = D / V;
  const int rows = ceil_div(n, 16) * 16;
  for (int i = threadIdx.x; i < rows * kPacksPerRow; i += kThreads) {
    const int r = i / kPacksPerRow, c = (i % kPacksPerRow) * V;
    if (r < n) {
      cp_async_16(tile + r * kStride<D> + c, src + r * row_stride + c);
    } else {
      store_pack<T, V>(tile + r * kStride<D> + c, zero_pack<T>());
    }
  }
  if (commit) cp_async_commit();
}

template <typename T, int D, int kWarps>
__global__ void __launch_bounds__(kWarps * kWarpSize, kMinBlocks<D, kWarps>)
    gated_attn_mma_kernel(const GatedAttnParams p) {
  constexpr int kThreads = kWarps * kWarpSize, kBlockRows = kWarps * kRows, S = kStride<D>;
  constexpr int V = kPackBytes / sizeof(T), kPacksPerRow = D / V;
  constexpr int kDSteps = D / 16;      // k-steps of Q·Kᵀ
  constexpr int kDTiles = D / 8;       // n-tiles of P·V
  constexpr int kKeys = kTileKeys<kWarps>;
  constexpr int kKeyTiles = kKeys / 8; // n-tiles of Q·Kᵀ
  constexpr int kSt = kStages<kWarps>;
  static_assert(kBlockRows <= kKeys || (kSt == 2 && kBlockRows == 2 * kKeys), "Q's staging area");
  __shared__ __align__(16) T k_tile[kSt][kKeys * S];
  __shared__ __align__(16) T v_tile[kSt][kKeys * S];

  const auto [b, q0] = block_coords(p, kBlockRows);
  const int h = blockIdx.y;
  const SeqSpan seq = seq_span(p, b);
  if (q0 >= seq.n_queries) return;
  const int n_rows = min(kBlockRows, seq.n_queries - q0);
  T* out = static_cast<T*>(p.out) + (seq.start + q0) * p.out_row_stride + h * D;
  const float g = p.gates ? p.gates[(p.gate_row ? p.gate_row[b] : 0) * p.H + h] : 1.f;
  if (g == 0.f || seq.n_keys <= 0) {  // gated off, or no real key: zeros, not NaN
    for (int i = threadIdx.x; i < n_rows * kPacksPerRow; i += kThreads) {
      store_pack<T, V>(out + (i / kPacksPerRow) * p.out_row_stride + (i % kPacksPerRow) * V, zero_pack<T>());
    }
    return;
  }

  const int warp = threadIdx.x / kWarpSize, lane = threadIdx.x % kWarpSize;
  const int group = lane / 4, tig = lane % 4;
  const int r0 = warp * kRows;       // the warp's first row in the block
  const bool active = r0 < n_rows;   // warp-uniform
  const int n_tiles = ceil_div(seq.n_keys, kKeys);
  const T* k_src = static_cast<const T*>(p.k) + seq.start * p.k_row_stride + h * D;
  const T* v_src = static_cast<const T*>(p.v) + seq.start * p.v_row_stride + h * D;
  auto load_k = [&](int j) {
    load_tile_async<T, D, kThreads>(k_tile[j % kSt], k_src + j * kKeys * p.k_row_stride, p.k_row_stride,
                                    min(kKeys, seq.n_keys - j * kKeys));
  };
  auto load_v = [&](int j) {
    load_tile_async<T, D, kThreads>(v_tile[j % kSt], v_src + j * kKeys * p.v_row_stride, p.v_row_stride,
                                    min(kKeys, seq.n_keys - j * kKeys));
  };

  // Commit groups, oldest first: Q, K₀, V₀ (with one buffer V₀ waits for Q's staging area), then
  // per tile j + 1: K, V. Q is staged in buffers free until tile 1 (or V₀) needs them: the last value
  // buffer, and for 128 rows the second key buffer after it.
  const T* q_src = static_cast<const T*>(p.q) + (seq.start + q0) * p.q_row_stride + h * D;
  load_tile_async<T, D, kThreads>(v_tile[kSt - 1], q_src, p.q_row_stride, min(n_rows, kKeys), false);
  if constexpr (kBlockRows > kKeys) {
    load_tile_async<T, D, kThreads>(k_tile[kSt - 1], q_src + kKeys * p.q_row_stride, p.q_row_stride, n_rows - kKeys,
                                    false);
  }
  cp_async_commit();
  load_k(0);
  if constexpr (kSt == 2) load_v(0);
  cp_async_wait<kSt == 2 ? 2 : 1>();  // Q has landed
  __syncthreads();
  // Q's fragments stay in registers for the whole key loop. ldmatrix row addresses: lane 8·i + r
  // reads row r of 8×8 matrix i. For an A fragment (16×16 at [row0, col0)) matrix i sits at rows
  // + 8·(i % 2), columns + 8·(i / 2).
  const int m_row = lane % 8 + 8 * ((lane / 8) % 2), m_col = 8 * (lane / 16);
  uint32_t qf[kDSteps][4];
  if (active) {
    const T* q_rows = r0 < kKeys ? v_tile[kSt - 1] + r0 * S : k_tile[kSt - 1] + (r0 - kKeys) * S;
#pragma unroll
    for (int kk = 0; kk < kDSteps; ++kk) ldmatrix_x4<false>(qf[kk], q_rows + m_row * S + kk * 16 + m_col);
  }
  if constexpr (kSt == 1) {
    __syncthreads();  // every warp has its Q fragments: the staging area takes V₀
    load_v(0);
  }

  // Rows group and group + 8 of the warp's tile: running max (base 2), this thread's part of the row
  // sum, and the score of key 0 (for the [CLS] mass; meaningful in tig 0, which holds key 0).
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f}, s0[2] = {0.f, 0.f};
  float o[kDTiles][4];
#pragma unroll
  for (int dt = 0; dt < kDTiles; ++dt) o[dt][0] = o[dt][1] = o[dt][2] = o[dt][3] = 0.f;
  const float scale2 = p.scale * kLog2e;

  for (int j = 0; j < n_tiles; ++j) {
    const int n_valid = min(kKeys, seq.n_keys - j * kKeys);
    const T* kt = k_tile[j % kSt];
    const T* vt = v_tile[j % kSt];
    // In flight now: K_j, V_j (the tiles before are waited for).
    cp_async_wait<1>();  // K_j has landed
    // K_j is visible to every warp, and every warp is done with tile j - 1, whose buffers (and, at
    // j = 0, Q's staging area) the next tile may now overwrite.
    __syncthreads();
    const bool prefetch = kSt == 2 && j + 1 < n_tiles;
    if (prefetch) {
      load_k(j + 1);
      load_v(j + 1);
    }

    float s[kKeyTiles][4];
    if (active) {
      float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
      for (int nt = 0; nt < kKeyTiles; ++nt) {
        s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.f;
        if (nt * 8 < n_valid) {
          // B fragments of keys [8·nt, 8·nt + 8) for two k-steps at once: matrix i is columns
          // [32·kk2 + 8·i, … + 8) of those keys' rows.
#pragma unroll
          for (int kk2 = 0; kk2 < kDSteps / 2; ++kk2) {
            uint32_t kf[4];
            ldmatrix_x4<false>(kf, kt + (nt * 8 + lane % 8) * S + kk2 * 32 + 8 * (lane / 8));
            mma_16816<T>(s[nt], qf[2 * kk2], kf);
            mma_16816<T>(s[nt], qf[2 * kk2 + 1], kf + 2);
          }
        }
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          s[nt][i] = nt * 8 + 2 * tig + (i & 1) < n_valid ? s[nt][i] * scale2 : -INFINITY;
          mx[i / 2] = fmaxf(mx[i / 2], s[nt][i]);
        }
      }
      if (j == 0) {
        s0[0] = s[0][0];
        s0[1] = s[0][2];
      }
      float rescale[2];
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
        const float m_new = fmaxf(m[r], mx[r]);  // finite: the tile has a real key
        rescale[r] = exp2f(m[r] - m_new);        // 0 on the first tile
        m[r] = m_new;
        l[r] *= rescale[r];
      }
#pragma unroll
      for (int dt = 0; dt < kDTiles; ++dt) {
        o[dt][0] *= rescale[0];
        o[dt][1] *= rescale[0];
        o[dt][2] *= rescale[1];
        o[dt][3] *= rescale[1];
      }
    }

    if (prefetch) {
      cp_async_wait<2>();  // V_j has landed; K and V of tile j + 1 may still be in flight
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();  // V_j is visible to every warp
    if (active) {
#pragma unroll
      for (int ks = 0; ks < kKeys / 16; ++ks) {
        if (ks * 16 >= n_valid) break;  // warp-uniform
        // P's A fragment for keys [16·ks, 16·ks + 16): S's n-tiles 2·ks and 2·ks + 1, as rounded.
        float pr[2][4];
#pragma unroll
        for (int half = 0; half < 2; ++half) {
#pragma unroll
          for (int i = 0; i < 4; ++i) {
            pr[half][i] = to_float(from_float<T>(exp2f(s[2 * ks + half][i] - m[i / 2])));
            l[i / 2] += pr[half][i];
          }
        }
        const uint32_t pf[4] = {pair_from_floats<T>(pr[0][0], pr[0][1]), pair_from_floats<T>(pr[0][2], pr[0][3]),
                                pair_from_floats<T>(pr[1][0], pr[1][1]), pair_from_floats<T>(pr[1][2], pr[1][3])};
        // B fragments of V for two 8-column tiles at once, transposed on the way: matrix i is keys
        // 16·ks + 8·(i % 2) + [0, 8), columns 16·dt2 + 8·(i / 2) + [0, 8).
#pragma unroll
        for (int dt2 = 0; dt2 < kDTiles / 2; ++dt2) {
          uint32_t vf[4];
          ldmatrix_x4<true>(vf, vt + (ks * 16 + m_row) * S + dt2 * 16 + m_col);
          mma_16816<T>(o[2 * dt2], pf, vf);
          mma_16816<T>(o[2 * dt2 + 1], pf, vf + 2);
        }
      }
    }
    if (kSt == 1 && j + 1 < n_tiles) {
      __syncthreads();  // every warp is done with the one buffer
      load_k(j + 1);
      load_v(j + 1);
    }
  }

  // No barrier needed before staging the output in k_tile[0]: the last tile's keys were read before
  // the barrier that made its values visible, and nothing is in flight.
  if (!active) return;
  float inv[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
    inv[r] = g / l[r];  // l > 0: the first tile has a real key
    const int t = q0 + r0 + group + 8 * r;
    if (p.cls_mass && tig == 0 && t < seq.n_queries && t < seq.n_keys) {
      atomicAdd(&p.cls_mass[b * p.H + h], exp2f(s0[r] - m[r]) / l[r] / seq.n_keys);
    }
  }
  T* stage = &k_tile[0][0] + r0 * S;  // rows past the first buffer's 64 run on into the second
#pragma unroll
  for (int dt = 0; dt < kDTiles; ++dt) {
    T* at = stage + group * S + dt * 8 + 2 * tig;
    store_pair(at, pair_from_floats<T>(o[dt][0] * inv[0], o[dt][1] * inv[0]));
    store_pair(at + 8 * S, pair_from_floats<T>(o[dt][2] * inv[1], o[dt][3] * inv[1]));
  }
  __syncwarp();
  const int rows = min(kRows, n_rows - r0);
  for (int i = lane; i < rows * kPacksPerRow; i += kWarpSize) {
    const int r = i / kPacksPerRow, c = (i % kPacksPerRow) * V;
    store_pack<T, V>(out + (r0 + r) * p.out_row_stride + c, load_pack<T, V>(stage + r * S + c));
  }
}

// ---- launcher

template <typename T, int D, int kWarps>
void launch_typed(const GatedAttnParams& p, cudaStream_t stream) {
  HS_LAUNCH(attn_grid(p, kWarps * kRows), kWarps * kWarpSize, stream, gated_attn_mma_kernel<T, D, kWarps>)(p);
  HS_CUDA_CHECK(cudaGetLastError());
}

template <typename T, int D>
void launch_d(const GatedAttnParams& p, cudaStream_t stream) {
  if (p.max_seqlen <= kRows) return launch_typed<T, D, 1>(p, stream);
  if (p.max_seqlen <= 2 * kRows) return launch_typed<T, D, 2>(p, stream);
  // Longer sequences: 128 query rows per block where registers and shared memory allow (D ≤ 64), so
  // each key and value tile is loaded once per 128 queries rather than per 64.
  if constexpr (D <= 64) {
    if (p.max_seqlen > 4 * kRows) return launch_typed<T, D, 8>(p, stream);
  }
  launch_typed<T, D, 4>(p, stream);
}

}  // namespace

bool gated_attn_mma_fits(const GatedAttnParams& p) {
  if (p.dtype != DType::F16 && p.dtype != DType::BF16) return false;
  constexpr int V = kPackBytes / 2;
  return p.q_row_stride % V == 0 && p.k_row_stride % V == 0 && p.v_row_stride % V == 0 && p.out_row_stride % V == 0 &&
         packs_aligned({p.q, p.k, p.v, p.out});
}

void gated_attn_mma_launch(const GatedAttnParams& p, cudaStream_t stream) {
  auto by_d = [&](auto tag) {
    dispatch_head_dim(p.D, [&](auto d) { launch_d<decltype(tag), decltype(d)::value>(p, stream); });
  };
  if (p.dtype == DType::F16) {
    by_d(__half{});
  } else if (p.dtype == DType::BF16) {
    by_d(__nv_bfloat16{});
  } else {
    throw std::invalid_argument("gated_attn_fwd: the tensor-core kernel takes fp16 or bf16");
  }
}

}  // namespace hs::gpu
