#pragma once
// BERT encoder forward in libtorch with head gates (Hugging Face's head_mask semantics: head h's
// attention probabilities are multiplied by G[l, h] before the output projection; 1 keeps, 0 removes).
// Gates stay float tensors so gradients can flow through them.
#include <optional>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "model/model_config.h"
#include "model/model_dir.h"

namespace hs::model {

struct LayerWeights {
  at::Tensor qkv_w;   // (3C, C): query, key, value stacked so one GEMM serves all three
  at::Tensor qkv_b;   // (3C)
  at::Tensor out_w;   // (C, C): attention output projection
  at::Tensor out_b;   // (C)
  at::Tensor ln1_w, ln1_b;  // (C)
  at::Tensor ff1_w;   // (F, C)
  at::Tensor ff1_b;   // (F)
  at::Tensor ff2_w;   // (C, F)
  at::Tensor ff2_b;   // (C)
  at::Tensor ln2_w, ln2_b;  // (C)
};

struct BertWeights {
  at::Tensor word_emb;   // (V, C)
  at::Tensor pos_emb;    // (P, C)
  at::Tensor type_emb;   // (2, C)
  at::Tensor emb_ln_w, emb_ln_b;  // (C)
  std::vector<LayerWeights> layers;  // L
  at::Tensor pooler_w;   // (C, C), undefined when the checkpoint has no pooler
  at::Tensor pooler_b;   // (C)
  at::Tensor classifier_w;  // (K, C), undefined without a classification head
  at::Tensor classifier_b;  // (K)
};

// Reads every tensor the encoder needs from the checkpoint, checking names, shapes and dtypes against
// the config; errors name the tensor. Weights are converted to float32.
BertWeights load_bert_weights(const ModelDir& dir);

struct EncoderInput {
  at::Tensor input_ids;       // (B, T) int64
  at::Tensor token_type_ids;  // (B, T) int64
  at::Tensor attention_mask;  // (B, T) int64, 1 = real token, 0 = padding (after every real token)
};

EncoderInput to_device(const EncoderInput& in, at::Device device);

// A batch's padding in each form an attention path takes, built once per batch (attention_bias)
// rather than once per layer. Real tokens come first in every row.
struct AttentionBias {
  at::Tensor additive;  // (B, 1, 1, T) float32: 0 on real keys, finfo(float32).min on padding (Hugging Face's)
  at::Tensor key_lens;  // (B) int32: real keys per row (the gated attention kernel's form)
  at::Tensor real_key;  // (B, 1, 1, T) bool: key j of row b is real (libtorch's fused attention's form)
  // The same padding for k copies of the batch stacked along the rows: (k·B, …).
  AttentionBias repeat(int64_t k) const;
};

// Indices (int64) of the listed heads' D-wide column blocks in a C-wide hidden vector, repeated for
// `parts` stacked C-wide blocks (3 selects the rows of the stacked query/key/value weight).
at::Tensor head_index(const std::vector<int64_t>& heads, int64_t D, int64_t C, int parts = 1);

// Which attention runs on CUDA: headsweep's gated attention kernel (gated-off heads cost nothing;
// tensor cores for fp16/bf16, SIMT for fp32) or libtorch's fused scaled_dot_product_attention (tensor
// cores; every head computed, then gated). docs/performance.md#gpu compares them.
enum class CudaAttention { Kernel, Fused };

// runtime.attention's names: `kernel`; `fused`, and `auto`, which is `fused` until the kernel is
// measured faster. Throws std::invalid_argument for any other.
CudaAttention cuda_attention_named(const std::string& name);

class BertModel {
 public:
  BertModel(BertConfig config, BertWeights weights);
  static BertModel load(const ModelDir& dir);
  // A copy with every weight on device in dtype. On CUDA, whole-head gates run the attention chosen
  // and the fused bias/GELU/LayerNorm kernels; the rest (and the CPU) runs libtorch composites.
  BertModel to(at::Device device, at::ScalarType dtype = at::kFloat,
               CudaAttention attention = CudaAttention::Fused) const;
  at::Device device() const { return weights_.word_emb.device(); }
  at::ScalarType dtype() const { return weights_.word_emb.scalar_type(); }
  CudaAttention cuda_attention() const { return attention_; }

  const BertConfig& config() const { return config_; }
  const BertWeights& weights() const { return weights_; }
  int n_layers() const { return config_.num_hidden_layers; }
  int n_heads() const { return config_.num_attention_heads; }

  at::Tensor embed(const EncoderInput& in) const;                 // (B, T, C)
  AttentionBias attention_bias(const at::Tensor& attention_mask /* (B, T) */) const;
  // One encoder layer. gates: (H) shared by the batch, (B, H) per row, so rows of one batch can run
  // under different masks, or (B, T, H) per query token (for gradients with respect to each
  // token's head output).
  at::Tensor layer(int l, const at::Tensor& x /* (B, T, C) */, const AttentionBias& bias,
                   const at::Tensor& gates /* (H), (B, H) or (B, T, H) */,
                   at::Tensor* probs_out = nullptr /* (B, H, T, T), before the gates */) const;
  // The pieces of layer(), for executors that share work between masks. heads lists the heads to
  // compute (in any order); the others cost nothing.
  // Attention context of the listed heads: (B, T, k·D), head heads[i] in columns [i·D, (i+1)·D).
  at::Tensor head_context(int l, const at::Tensor& x /* (B, T, C) */, const AttentionBias& bias,
                          const std::vector<int64_t>& heads) const;
  // Σ over the listed heads of their output projections (B, T, C), plus the output bias if asked.
  at::Tensor project_heads(int l, const at::Tensor& ctx /* (B, T, k·D) */, const std::vector<int64_t>& heads,
                           bool add_bias) const;
  // Each listed head's own output projection P_h = ctx_h W_O[:, h]ᵀ, without bias: (k, B·T, C), for
  // mixing per mask as Σ_h g_h·P_h + b_O (ops::head_mix_ln, which can add the residual and apply
  // the first LayerNorm in the same pass: attention_residual's work).
  at::Tensor head_projections(int l, const at::Tensor& ctx /* (B, T, k·D) */, const std::vector<int64_t>& heads) const;
  // The attention output projection of a full-width context (heads gated off are zero columns).
  at::Tensor project_context(int l, const at::Tensor& ctx /* (B, T, C) */) const;
  // Residual + LayerNorm, feed-forward, residual + LayerNorm: the rest of layer l after attention;
  // feed_forward(l, attention_residual(l, attn, x)).
  at::Tensor finish_layer(int l, const at::Tensor& attn /* (B, T, C) */, const at::Tensor& x /* (B, T, C) */) const;
  // LayerNorm(attn + x) with layer l's first LayerNorm: the attention block's output.
  at::Tensor attention_residual(int l, const at::Tensor& attn /* (B, T, C) */, const at::Tensor& x /* (B, T, C) */) const;
  // LayerNorm(FF(h) + h) with layer l's feed-forward and second LayerNorm: the layer's output.
  at::Tensor feed_forward(int l, const at::Tensor& h /* (B, T, C) */) const;

  // Whole encoder; gates (L, H), (L, B, H) or (L, B, T, H). hidden, when given, receives L + 1 tensors (B, T, C):
  // the embedding output, then each layer's output, as Hugging Face's hidden_states; attentions, when
  // given, receives each layer's attention probabilities (B, H, T, T), as its attentions.
  at::Tensor forward(const EncoderInput& in, const at::Tensor& gates,
                     std::vector<at::Tensor>* hidden = nullptr,
                     std::vector<at::Tensor>* attentions = nullptr) const;  // (B, T, C)

  at::Tensor pool(const at::Tensor& h /* (B, T, C) */, const at::Tensor& attention_mask /* (B, T) */,
                  Pooling pooling) const;                          // (B, C)
  bool has_pooler() const { return weights_.pooler_w.defined(); }
  bool has_classifier() const { return weights_.classifier_w.defined(); }
  at::Tensor pooler(const at::Tensor& h /* (B, T, C) */) const;    // (B, C): tanh(W h[:, 0] + b)
  at::Tensor classify(const at::Tensor& h /* (B, T, C) */) const;  // (B, K)

 private:
  at::Tensor attention(const at::Tensor& qkv /* (B, T, 3, k, D) */, const AttentionBias& bias,
                       const at::Tensor& gates /* (G, k) float32 or undefined */,
                       const at::Tensor& rows /* (B) int32 or undefined */) const;  // (B, T, k·D), CUDA

  BertConfig config_;
  BertWeights weights_;
  CudaAttention attention_ = CudaAttention::Fused;
};

}  // namespace hs::model
