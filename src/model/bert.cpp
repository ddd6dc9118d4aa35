#include "model/bert.h"

#include <cmath>
#include <limits>
#include <set>

#include <ATen/core/grad_mode.h>
#include <fmt/ranges.h>

#include "model/safetensors.h"
#include "ops/gelu.h"
#include "ops/gated_attn.h"
#include "ops/head_mix.h"
#include "ops/upload.h"
#include "util/error.h"

namespace hs::model {
namespace {

// Tensors a checkpoint may carry that the encoder does not use: position ids buffers and the
// pre-training / LM heads of BertForPreTraining and BertForMaskedLM exports.
bool ignorable(const std::string& name, const std::string& prefix) {
  const std::string local = name.substr(std::min(name.size(), prefix.size()));
  return local == "embeddings.position_ids" || name.rfind("cls.", 0) == 0 ||
         name.rfind(prefix + "embeddings.position_ids", 0) == 0;
}

class WeightReader {
 public:
  WeightReader(const SafetensorsFile& file, std::string prefix) : file_(file), prefix_(std::move(prefix)) {}

  at::Tensor take(const std::string& local, std::vector<int64_t> shape, bool prefixed = true) {
    const std::string name = prefixed ? prefix_ + local : local;
    if (!file_.contains(name)) hs::input_error("{}: missing tensor {}", file_.path(), name);
    const TensorView& v = file_.get(name);
    if (v.shape != shape) {
      hs::input_error("{}: tensor {} has shape {}, expected {}", file_.path(), name, fmt::join(v.shape, "x"),
                      fmt::join(shape, "x"));
    }
    at::ScalarType st;
    switch (v.dtype) {
      case DType::F32: st = at::kFloat; break;
      case DType::F16: st = at::kHalf; break;
      case DType::BF16: st = at::kBFloat16; break;
      case DType::F64: st = at::kDouble; break;
      default:
        hs::input_error("{}: tensor {} has dtype {}, expected a float type (F32, F16, BF16)", file_.path(), name,
                        dtype_name(v.dtype));
    }
    used_.insert(name);
    // from_blob views the memory map; the copy owns its data, so the map can be closed afterwards.
    at::Tensor t = at::from_blob(const_cast<void*>(v.data), shape, at::TensorOptions().dtype(st)).to(at::kFloat).clone();
    // A corrupt weight would otherwise surface much later, as a metric of NaN predictions.
    if (!at::isfinite(t).all().item<bool>()) {
      const int64_t bad = t.numel() - at::isfinite(t).sum().item<int64_t>();
      hs::input_error("{}: tensor {} holds {} non-finite value{} (NaN or inf); the file is corrupt", file_.path(), name,
                      bad, bad == 1 ? "" : "s");
    }
    return t;
  }

  bool has(const std::string& local, bool prefixed = true) const {
    return file_.contains(prefixed ? prefix_ + local : local);
  }

  void check_all_used() const {
    for (const std::string& name : file_.names()) {
      if (used_.count(name) || ignorable(name, prefix_)) continue;
      hs::input_error("{}: unexpected tensor {} (not part of a BERT encoder with this config.json)", file_.path(),
                      name);
    }
  }

 private:
  const SafetensorsFile& file_;
  std::string prefix_;
  std::set<std::string> used_;
};

}  // namespace

BertWeights load_bert_weights(const ModelDir& dir) {
  const BertConfig& cfg = dir.config;
  const int64_t C = cfg.hidden_size, F = cfg.intermediate_size;
  SafetensorsFile file = SafetensorsFile::open(dir.weights_path);
  WeightReader r(file, dir.weight_prefix);
  BertWeights w;
  w.word_emb = r.take("embeddings.word_embeddings.weight", {cfg.vocab_size, C});
  w.pos_emb = r.take("embeddings.position_embeddings.weight", {cfg.max_position_embeddings, C});
  w.type_emb = r.take("embeddings.token_type_embeddings.weight", {cfg.type_vocab_size, C});
  w.emb_ln_w = r.take("embeddings.LayerNorm.weight", {C});
  w.emb_ln_b = r.take("embeddings.LayerNorm.bias", {C});
  for (int l = 0; l < cfg.num_hidden_layers; ++l) {
    const std::string p = fmt::format("encoder.layer.{}.", l);
    LayerWeights lw;
    lw.qkv_w = at::cat({r.take(p + "attention.self.query.weight", {C, C}), r.take(p + "attention.self.key.weight", {C, C}),
                        r.take(p + "attention.self.value.weight", {C, C})});
    lw.qkv_b = at::cat({r.take(p + "attention.self.query.bias", {C}), r.take(p + "attention.self.key.bias", {C}),
                        r.take(p + "attention.self.value.bias", {C})});
    lw.out_w = r.take(p + "attention.output.dense.weight", {C, C});
    lw.out_b = r.take(p + "attention.output.dense.bias", {C});
    lw.ln1_w = r.take(p + "attention.output.LayerNorm.weight", {C});
    lw.ln1_b = r.take(p + "attention.output.LayerNorm.bias", {C});
    lw.ff1_w = r.take(p + "intermediate.dense.weight", {F, C});
    lw.ff1_b = r.take(p + "intermediate.dense.bias", {F});
    lw.ff2_w = r.take(p + "output.dense.weight", {C, F});
    lw.ff2_b = r.take(p + "output.dense.bias", {C});
    lw.ln2_w = r.take(p + "output.LayerNorm.weight", {C});
    lw.ln2_b = r.take(p + "output.LayerNorm.bias", {C});
    w.layers.push_back(std::move(lw));
  }
  if (r.has("pooler.dense.weight")) {
    w.pooler_w = r.take("pooler.dense.weight", {C, C});
    w.pooler_b = r.take("pooler.dense.bias", {C});
  }
  if (r.has("classifier.weight", false)) {
    const int64_t K = cfg.num_labels;
    w.classifier_w = r.take("classifier.weight", {K, C}, false);
    w.classifier_b = r.take("classifier.bias", {K}, false);
  }
  r.check_all_used();
  return w;
}

BertModel::BertModel(BertConfig config, BertWeights weights)
    : config_(std::move(config)), weights_(std::move(weights)) {}

BertModel BertModel::load(const ModelDir& dir) { return BertModel(dir.config, load_bert_weights(dir)); }

// Attention over a fused QKV projection, read in place; gates and rows as ops::gated_attn_fwd takes them.
at::Tensor BertModel::attention(const at::Tensor& qkv, const AttentionBias& bias, const at::Tensor& gates,
                                const at::Tensor& rows) const {
  const int64_t B = qkv.size(0), T = qkv.size(1), k = qkv.size(3), D = qkv.size(4);
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  const at::Tensor q = qkv.select(2, 0), key = qkv.select(2, 1), v = qkv.select(2, 2);
  const at::Tensor ctx = attention_ == CudaAttention::Kernel
                             ? ops::gated_attn_fwd(q, key, v, bias.key_lens, gates, rows, scale)
                             : ops::gated_attn_fwd_fused(q, key, v, bias.key_lens, gates, rows, scale, bias.real_key);
  return ctx.view({B, T, k * D});
}

CudaAttention cuda_attention_named(const std::string& name) {
  if (name == "kernel") return CudaAttention::Kernel;
  if (name == "fused" || name == "auto") return CudaAttention::Fused;
  throw std::invalid_argument("unknown CUDA attention " + name + " (auto, fused or kernel)");
}

BertModel BertModel::to(at::Device device, at::ScalarType dtype, CudaAttention attention) const {
  auto move = [&](const at::Tensor& t) { return t.defined() ? t.to(device, dtype) : t; };
  BertWeights w;
  w.word_emb = move(weights_.word_emb);
  w.pos_emb = move(weights_.pos_emb);
  w.type_emb = move(weights_.type_emb);
  w.emb_ln_w = move(weights_.emb_ln_w);
  w.emb_ln_b = move(weights_.emb_ln_b);
  for (const LayerWeights& l : weights_.layers) {
    w.layers.push_back({move(l.qkv_w), move(l.qkv_b), move(l.out_w), move(l.out_b), move(l.ln1_w), move(l.ln1_b),
                        move(l.ff1_w), move(l.ff1_b), move(l.ff2_w), move(l.ff2_b), move(l.ln2_w), move(l.ln2_b)});
  }
  w.pooler_w = move(weights_.pooler_w);
  w.pooler_b = move(weights_.pooler_b);
  w.classifier_w = move(weights_.classifier_w);
  w.classifier_b = move(weights_.classifier_b);
  BertModel moved(config_, std::move(w));
  moved.attention_ = attention;
  return moved;
}

at::Tensor BertModel::embed(const EncoderInput& in) const {
  const int64_t T = in.input_ids.size(1);
  if (T > config_.max_position_embeddings) {
    hs::input_error("sequence of {} tokens exceeds max_position_embeddings {}", T, config_.max_position_embeddings);
  }
  const at::Tensor positions = at::arange(T, in.input_ids.options());
  at::Tensor e = at::embedding(weights_.word_emb, in.input_ids) + at::embedding(weights_.type_emb, in.token_type_ids) +
                 at::embedding(weights_.pos_emb, positions).unsqueeze(0);
  return at::layer_norm(e, {config_.hidden_size}, weights_.emb_ln_w, weights_.emb_ln_b, config_.layer_norm_eps);
}

AttentionBias BertModel::attention_bias(const at::Tensor& attention_mask) const {
  const int64_t B = attention_mask.size(0), T = attention_mask.size(1);
  AttentionBias bias;
  // Hugging Face adds (1 - mask) * finfo(float32).min rather than -inf, so a fully masked row stays
  // finite; the same constant keeps our scores identical to theirs.
  const float neg = std::numeric_limits<float>::lowest();
  bias.additive = ((1 - attention_mask.to(at::kFloat)) * neg).view({B, 1, 1, T});
  const at::Tensor real = attention_mask.ne(0);  // (B, T)
  bias.real_key = real.view({B, 1, 1, T});
  bias.key_lens = real.sum(1).to(at::kInt);
  // The gated attention kernel reads a row's keys as its first key_lens tokens; a mask with padding
  // before a real token would give it other keys than the composite paths use.
  const at::Tensor prefix = at::arange(T, bias.key_lens.options()).unsqueeze(0) < bias.key_lens.unsqueeze(1);
  if (!prefix.equal(real)) {
    throw std::invalid_argument("attention_mask: padding must come after every real token of its row");
  }
  return bias;
}

AttentionBias AttentionBias::repeat(int64_t k) const {
  if (k == 1) return *this;
  return {additive.repeat({k, 1, 1, 1}), key_lens.repeat({k}), real_key.repeat({k, 1, 1, 1})};
}

namespace {

// headsweep's CUDA kernels have no backward: where autograd records through these tensors (gradient
// importance), a CUDA model takes the libtorch composites, as the CPU does.
bool runs_cuda_kernels(const at::Tensor& a, const at::Tensor& b = {}) {
  return a.is_cuda() && !(at::GradMode::is_enabled() && (a.requires_grad() || (b.defined() && b.requires_grad())));
}

}  // namespace

at::Tensor BertModel::layer(int l, const at::Tensor& x, const AttentionBias& bias, const at::Tensor& gates,
                            at::Tensor* probs_out) const {
  const LayerWeights& w = weights_.layers.at(l);
  const int64_t B = x.size(0), T = x.size(1), C = config_.hidden_size;
  const int64_t H = config_.num_attention_heads, D = C / H;
  if (runs_cuda_kernels(x, gates) && !probs_out && gates.dim() <= 2) {
    // The CUDA attention chosen (attention_: libtorch's fused attention or headsweep's kernel):
    // whole-head gates only; probabilities and per-token gates take the composite below.
    const at::Tensor g = gates.dim() == 1 ? gates.view({1, H}) : gates;
    const at::Tensor rows = gates.dim() == 1 ? at::Tensor() : at::arange(B, x.options().dtype(at::kInt));
    const at::Tensor ctx = attention(at::linear(x, w.qkv_w, w.qkv_b).view({B, T, 3, H, D}), bias,
                                     g.to(at::kFloat).contiguous(), rows);
    return finish_layer(l, project_context(l, ctx), x);
  }
  const at::Tensor qkv = at::linear(x, w.qkv_w, w.qkv_b).view({B, T, 3, H, D}).permute({2, 0, 3, 1, 4});  // (3, B, H, T, D)
  const at::Tensor q = qkv[0], k = qkv[1], v = qkv[2];
  at::Tensor scores = at::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(D)) + bias.additive;  // (B, H, T, T)
  const at::Tensor probs = at::softmax(scores, -1);
  if (probs_out) *probs_out = probs;
  at::Tensor ctx = at::matmul(probs, v);  // (B, H, T, D)
  // (H) and (B, H) gate whole heads; (B, T, H) gates each query token's context, whose gradient
  // is the per-token importance of Michel et al. 2019.
  const at::Tensor g = gates.dim() == 1   ? gates.view({1, H, 1, 1})
                       : gates.dim() == 2 ? gates.view({B, H, 1, 1})
                                          : gates.permute({0, 2, 1}).unsqueeze(-1);  // (B, H, T, 1)
  ctx = (ctx * g).permute({0, 2, 1, 3}).reshape({B, T, C});
  return finish_layer(l, project_context(l, ctx), x);
}

EncoderInput to_device(const EncoderInput& in, at::Device device) {
  return {in.input_ids.to(device), in.token_type_ids.to(device), in.attention_mask.to(device)};
}

at::Tensor head_index(const std::vector<int64_t>& heads, int64_t D, int64_t C, int parts) {
  std::vector<int64_t> idx;
  idx.reserve(heads.size() * D * parts);
  for (int p = 0; p < parts; ++p) {
    for (int64_t h : heads) {
      for (int64_t d = 0; d < D; ++d) idx.push_back(p * C + h * D + d);
    }
  }
  return at::from_blob(idx.data(), {static_cast<int64_t>(idx.size())}, at::kLong).clone();
}

namespace {

// heads is 0, 1, …, H-1: the layer's weights serve as they are, with no per-call copy of the
// listed heads' rows or columns (every trie node of a single-head sweep computes all heads).
bool all_heads(const std::vector<int64_t>& heads, int64_t H) {
  if (static_cast<int64_t>(heads.size()) != H) return false;
  for (int64_t i = 0; i < H; ++i) {
    if (heads[i] != i) return false;
  }
  return true;
}

// The attention output weight's columns of the listed heads: (C, k·D).
at::Tensor out_columns(const at::Tensor& out_w /* (C, C) */, const std::vector<int64_t>& heads, int64_t D,
                       at::Device device) {
  const int64_t C = out_w.size(0);
  if (all_heads(heads, C / D)) return out_w;
  return out_w.index_select(1, ops::upload(head_index(heads, D, C, 1), device));
}

}  // namespace

at::Tensor BertModel::head_context(int l, const at::Tensor& x, const AttentionBias& bias,
                                   const std::vector<int64_t>& heads) const {
  const LayerWeights& w = weights_.layers.at(l);
  const int64_t B = x.size(0), T = x.size(1), C = config_.hidden_size;
  const int64_t D = C / config_.num_attention_heads, k = static_cast<int64_t>(heads.size());
  if (k == 0) return at::zeros({B, T, 0}, x.options());
  at::Tensor qkv_w = w.qkv_w, qkv_b = w.qkv_b;
  if (!all_heads(heads, config_.num_attention_heads)) {
    const at::Tensor rows = ops::upload(head_index(heads, D, C, 3), x.device());
    qkv_w = qkv_w.index_select(0, rows);
    qkv_b = qkv_b.index_select(0, rows);
  }
  if (x.is_cuda()) return attention(at::linear(x, qkv_w, qkv_b).view({B, T, 3, k, D}), bias, {}, {});
  const at::Tensor qkv = at::linear(x, qkv_w, qkv_b).view({B, T, 3, k, D}).permute({2, 0, 3, 1, 4});  // (3, B, k, T, D)
  const at::Tensor scores =
      at::matmul(qkv[0], qkv[1].transpose(-1, -2)) / std::sqrt(static_cast<double>(D)) + bias.additive;
  return at::matmul(at::softmax(scores, -1), qkv[2]).permute({0, 2, 1, 3}).reshape({B, T, k * D});
}

at::Tensor BertModel::project_heads(int l, const at::Tensor& ctx, const std::vector<int64_t>& heads,
                                    bool add_bias) const {
  const LayerWeights& w = weights_.layers.at(l);
  const int64_t C = config_.hidden_size, D = C / config_.num_attention_heads;
  if (heads.empty()) {
    at::Tensor zero = at::zeros({ctx.size(0), ctx.size(1), C}, ctx.options());
    return add_bias ? zero + w.out_b : zero;
  }
  const at::Tensor w_cols = out_columns(w.out_w, heads, D, ctx.device());  // (C, k·D)
  return add_bias ? at::linear(ctx, w_cols, w.out_b) : at::linear(ctx, w_cols);
}

at::Tensor BertModel::head_projections(int l, const at::Tensor& ctx, const std::vector<int64_t>& heads) const {
  const LayerWeights& w = weights_.layers.at(l);
  const int64_t C = config_.hidden_size, D = C / config_.num_attention_heads, k = static_cast<int64_t>(heads.size());
  const int64_t rows = ctx.size(0) * ctx.size(1);
  const at::Tensor per_head = ctx.reshape({rows, k, D}).transpose(0, 1);  // (k, B·T, D)
  const at::Tensor w_heads = out_columns(w.out_w, heads, D, ctx.device()).view({C, k, D}).permute({1, 2, 0});  // (k, D, C)
  return at::bmm(per_head, w_heads);
}

at::Tensor BertModel::project_context(int l, const at::Tensor& ctx) const {
  const LayerWeights& w = weights_.layers.at(l);
  return at::linear(ctx, w.out_w, w.out_b);
}

at::Tensor BertModel::finish_layer(int l, const at::Tensor& attn, const at::Tensor& x) const {
  return feed_forward(l, attention_residual(l, attn, x));
}

at::Tensor BertModel::attention_residual(int l, const at::Tensor& attn, const at::Tensor& x) const {
  const LayerWeights& w = weights_.layers.at(l);
  const int64_t C = config_.hidden_size;
  if (runs_cuda_kernels(attn, x)) {
    // The fused residual + LayerNorm kernel: one head, no gates.
    const int64_t rows = x.size(0) * x.size(1);
    return ops::head_mix_ln(attn.reshape({1, rows, C}), {}, {}, x.reshape({rows, C}), w.ln1_w, w.ln1_b,
                            config_.layer_norm_eps)[0]
        .view(x.sizes());
  }
  return at::layer_norm(attn + x, {C}, w.ln1_w, w.ln1_b, config_.layer_norm_eps);
}

at::Tensor BertModel::feed_forward(int l, const at::Tensor& h) const {
  const LayerWeights& w = weights_.layers.at(l);
  const int64_t C = config_.hidden_size;
  if (runs_cuda_kernels(h)) {
    // Fused kernels: bias + GELU on the intermediate, bias + residual + LayerNorm after the second GEMM.
    const int64_t rows = h.size(0) * h.size(1);
    const at::Tensor h2 = h.reshape({rows, C});
    at::Tensor inter = at::matmul(h2, w.ff1_w.t());
    ops::bias_gelu_(inter, w.ff1_b, config_.hidden_act != "gelu");
    return ops::head_mix_ln(at::matmul(inter, w.ff2_w.t()).unsqueeze(0), {}, w.ff2_b, h2, w.ln2_w, w.ln2_b,
                            config_.layer_norm_eps)[0]
        .view(h.sizes());
  }
  at::Tensor inter = at::linear(h, w.ff1_w, w.ff1_b);
  inter = config_.hidden_act == "gelu" ? at::gelu(inter) : at::gelu(inter, "tanh");
  return at::layer_norm(at::linear(inter, w.ff2_w, w.ff2_b) + h, {C}, w.ln2_w, w.ln2_b, config_.layer_norm_eps);
}

at::Tensor BertModel::forward(const EncoderInput& in, const at::Tensor& gates, std::vector<at::Tensor>* hidden,
                              std::vector<at::Tensor>* attentions) const {
  const int64_t L = n_layers(), H = n_heads();
  if (gates.dim() < 2 || gates.size(0) != L || gates.size(-1) != H) {
    throw std::invalid_argument(fmt::format("gates must be (L={}, H={}), (L, B, H) or (L, B, T, H)", L, H));
  }
  // Per-example gates index by example: one row per example, or the kernel reads past the gates.
  const int64_t B = in.input_ids.size(0);
  if (gates.dim() >= 3 && gates.size(1) != B) {
    throw std::invalid_argument(fmt::format("gates (L, B, …) have {} rows for a batch of B={}", gates.size(1), B));
  }
  at::Tensor x = embed(in);
  const AttentionBias bias = attention_bias(in.attention_mask);
  if (hidden) hidden->assign(1, x);
  if (attentions) attentions->assign(L, at::Tensor());
  for (int l = 0; l < L; ++l) {
    x = layer(l, x, bias, gates[l], attentions ? &(*attentions)[l] : nullptr);
    if (hidden) hidden->push_back(x);
  }
  return x;
}

at::Tensor BertModel::pool(const at::Tensor& h, const at::Tensor& attention_mask, Pooling pooling) const {
  const at::Tensor m = attention_mask.to(h.scalar_type()).unsqueeze(-1);  // (B, T, 1)
  switch (pooling) {
    case Pooling::Cls:
      return h.select(1, 0);
    case Pooling::Max:
      // sentence-transformers sets padding to -1e9 before the max.
      return at::where(m > 0, h, at::full({}, -1e9, h.options())).amax(1);
    case Pooling::Mean:
    default:
      return (h * m).sum(1) / m.sum(1).clamp_min(1e-9);
  }
}

at::Tensor BertModel::pooler(const at::Tensor& h) const {
  if (!has_pooler()) throw std::logic_error("checkpoint has no pooler");
  return at::tanh(at::linear(h.select(1, 0), weights_.pooler_w, weights_.pooler_b));
}

at::Tensor BertModel::classify(const at::Tensor& h) const {
  if (!has_classifier()) throw std::logic_error("checkpoint has no classification head");
  return at::linear(pooler(h), weights_.classifier_w, weights_.classifier_b);
}

}  // namespace hs::model
