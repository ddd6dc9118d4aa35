#pragma once
// Gated multi-head attention forward for packed or padded sequences, one gate per (gate row, head).
#include <cstdint>

#include <cuda_runtime_api.h>

#include "dtype.h"

namespace hs::gpu {

struct GatedAttnParams {
  // Query, key and value of token t, head h start at ptr + t·row_stride + h·D (strides in elements),
  // so the fused QKV projection output (tokens, 3C) is passed as one buffer with offsets 0, C, 2C
  // and row stride 3C, without a copy.
  const void* q;  // (tokens, H, D)
  const void* k;  // (tokens, H, D)
  const void* v;  // (tokens, H, D)
  int64_t q_row_stride = 0, k_row_stride = 0, v_row_stride = 0;
  void* out;  // (tokens, H, D), row stride out_row_stride
  int64_t out_row_stride = 0;

  // Packed: sequence b is tokens [cu_seqlens[b], cu_seqlens[b+1]), all of them real.
  // Padded (cu_seqlens null): sequence b is tokens [b·T, (b+1)·T) with T = max_seqlen, of which the
  // first key_lens[b] are real keys; padded queries are still computed, as Hugging Face does.
  const int* cu_seqlens = nullptr;  // (B+1)
  const int* key_lens = nullptr;    // (B)
  int B = 0, H = 0, D = 0, max_seqlen = 0;
  float scale = 1.f;  // applied to QKᵀ, usually 1/√D

  // out = g · softmax(scale·QKᵀ) V with g = gates[gate_row[b], h] (Hugging Face's head_mask). A head
  // whose gate is exactly 0 reads nothing and writes zeros.
  const float* gates = nullptr;    // (G, H); null: every gate 1
  const int* gate_row = nullptr;   // (B); null: row 0 for every sequence

  // Optional per-head statistic (null: off): accumulates, for each real query, its attention weight
  // on key 0 ([CLS]) divided by the sequence's real length, i.e. the mean [CLS] mass over queries.
  // The caller zeroes it; heads gated off add nothing.
  float* cls_mass = nullptr;  // (B, H)

  DType dtype = DType::F32;
};

// D must be 32, 64 or 128; throws std::invalid_argument otherwise.
void gated_attn_fwd_launch(const GatedAttnParams& p, cudaStream_t stream);

}  // namespace hs::gpu
