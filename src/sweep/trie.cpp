#include "sweep/trie.h"

#include <algorithm>
#include <utility>
#include <cstring>
#include <mutex>

#include <c10/core/InferenceMode.h>

#include "metrics/metrics.h"
#include "ops/head_mix.h"
#include "ops/upload.h"
#include "sweep/group_store.h"
#include "sweep/workers.h"

namespace hs::sweep {
namespace {

using Range = std::pair<size_t, size_t>;  // [first, last) into the trie-ordered masks

// Children of a node at layer l: runs of masks with equal gate rows at layer l.
std::vector<Range> children(const masks::MaskSet& set, const std::vector<int64_t>& order, Range r, int l) {
  const int H = set.n_heads();
  std::vector<Range> out;
  size_t start = r.first;
  for (size_t i = r.first + 1; i <= r.second; ++i) {
    if (i == r.second || std::memcmp(set.mask(order[i]) + l * H, set.mask(order[start]) + l * H, H) != 0) {
      out.emplace_back(start, i);
      start = i;
    }
  }
  return out;
}

int64_t count_passes(const masks::MaskSet& set, const std::vector<int64_t>& order, Range r, int l) {
  if (l == set.n_layers()) return 0;
  int64_t n = 0;
  for (const Range& c : children(set, order, r, l)) n += 1 + count_passes(set, order, c, l + 1);
  return n;
}

class Walker {
 public:
  Walker(const SweepProblem& p, const masks::MaskSet& set, const std::vector<int64_t>& order,
         std::vector<at::Tensor>& outputs, const TrieOptions& opts, TrieStats& stats)
      : p_(p), model_(*p.model), set_(set), order_(order), outputs_(outputs), opts_(opts), stats_(stats) {}

  void run_batch(const Batch& b, Range group) {
    batch_ = &b;
    bias_ = model_.attention_bias(b.input.attention_mask);
    seq_idx_ = at::from_blob(const_cast<int64_t*>(b.sequence_index.data()),
                             {static_cast<int64_t>(b.sequence_index.size())}, at::kLong);
    group_first_ = group.first;
    walk(0, model_.embed(b.input), group);
  }

 private:
  void walk(int l, const at::Tensor& x, Range r) {
    if (l == set_.n_layers()) {
      const at::Tensor out = head_outputs(model_, p_.head, x, batch_->input.attention_mask).to(at::kCPU, at::kFloat);
      for (size_t i = r.first; i < r.second; ++i) outputs_[i - group_first_].index_copy_(0, seq_idx_, out);
      return;
    }
    const std::vector<Range> kids = children(set_, order_, r, l);
    std::vector<size_t> firsts;
    for (const Range& c : kids) firsts.push_back(c.first);
    NodeAttention node = node_attention(l, x, bias_, firsts, 1);
    // A child holding one mask is a chain to the end: its continuation is stacked with its
    // siblings' (up to opts_.stack_tokens padded tokens) and run as one taller batch.
    const int64_t tokens = x.size(0) * x.size(1);
    const size_t fit = static_cast<size_t>(std::max<int64_t>(1, opts_.stack_tokens / std::max<int64_t>(1, tokens)));
    std::vector<at::Tensor> stack_x;
    std::vector<size_t> stack_masks;
    auto flush = [&] {
      if (stack_masks.empty()) return;
      run_chains(l + 1, stack_x.size() == 1 ? stack_x[0] : at::cat(stack_x), stack_masks);
      stack_x.clear();
      stack_masks.clear();
    };
    // Children are mixed a chunk at a time, so a node holds a chunk of their outputs rather than
    // one per child (up to group_masks for random masks: 160 × the batch). Within a chunk the chains
    // run first, and the node's shared tensors go with its last chunk, so that while a deeper child
    // is walked this level holds little more than that child's input: a single-head sweep's main
    // path is L levels deep.
    const size_t chunk = std::max(fit, static_cast<size_t>(std::max<int64_t>(1, opts_.min_mix_children)));
    for (size_t c0 = 0; c0 < kids.size(); c0 += chunk) {
      const size_t c1 = std::min(kids.size(), c0 + chunk);
      std::vector<at::Tensor> next;  // child k's layer l output, at k - c0
      {
        std::vector<at::Tensor> attended =
            mix(l, x, node, std::vector<size_t>(firsts.begin() + c0, firsts.begin() + c1), 1);
        if (c1 == kids.size()) node = NodeAttention{};
        for (at::Tensor& a : attended) {
          stats_.layer_passes += x.size(0);
          next.push_back(model_.feed_forward(l, a));
          a = at::Tensor();
        }
      }
      for (size_t k = c0; k < c1; ++k) {
        if (kids[k].second - kids[k].first > 1) continue;
        stack_x.push_back(std::move(next[k - c0]));
        stack_masks.push_back(kids[k].first);
        if (stack_masks.size() == fit) flush();
      }
      flush();
      for (size_t k = c0; k < c1; ++k) {
        if (kids[k].second - kids[k].first == 1) continue;
        const at::Tensor h = std::move(next[k - c0]);
        walk(l + 1, h, kids[k]);
      }
    }
  }

  // Layers l..L-1 of single masks stacked along the batch: x (k·B, T, C) holds copy j of the batch
  // for the mask at trie position masks[j]; every layer runs once for all copies.
  void run_chains(int l, at::Tensor x, const std::vector<size_t>& masks) {
    const auto k = static_cast<int64_t>(masks.size());
    const model::AttentionBias bias = bias_.repeat(k);  // (k·B, …)
    for (; l < set_.n_layers(); ++l) {
      const at::Tensor h = mix(l, x, node_attention(l, x, bias, masks, k), masks, k)[0];
      stats_.layer_passes += x.size(0);
      x = model_.feed_forward(l, h);
    }
    const at::Tensor mask = k == 1 ? batch_->input.attention_mask : batch_->input.attention_mask.repeat({k, 1});
    const at::Tensor out = head_outputs(model_, p_.head, x, mask).to(at::kCPU, at::kFloat);  // (k·B, X)
    const int64_t B = batch_->input.attention_mask.size(0);
    for (int64_t j = 0; j < k; ++j) outputs_[masks[j] - group_first_].index_copy_(0, seq_idx_, out.slice(0, j * B, (j + 1) * B));
  }

  // Layer l's attention at a node, computed once for the heads any of its masks keeps (heads they
  // all gate off cost nothing), and what mixing it per mask needs, also computed once.
  struct NodeAttention {
    enum class Mix { Lone, PerHead, PerChild } how;
    std::vector<int64_t> active;  // ascending
    at::Tensor ctx;               // (rows, T, |A|·D)
    at::Tensor P;                 // PerHead: (|A|, rows·T, C), each active head's output projection
    at::Tensor wide;              // PerChild: (rows, T, C), the active heads' context at full width
  };

  // masks: every mask of the node (one per child, or one per stacked copy when copies > 1); the
  // mixing is chosen from their count, not from a chunk's.
  NodeAttention node_attention(int l, const at::Tensor& x, const model::AttentionBias& bias,
                               const std::vector<size_t>& masks, int64_t copies) {
    const int H = set_.n_heads();
    NodeAttention n;
    for (int h = 0; h < H; ++h) {
      for (size_t i : masks) {
        if (set_.kept(order_[i], l, h)) {
          n.active.push_back(h);
          break;
        }
      }
    }
    n.ctx = model_.head_context(l, x, bias, n.active);
    stats_.attention_heads += static_cast<int64_t>(n.active.size()) * x.size(0);
    using Mixing = TrieOptions::Mixing;
    const Mixing mixing = opts_.mixing == Mixing::Auto ? (x.is_cuda() ? Mixing::ByChildren : Mixing::PerChild)
                                                        : opts_.mixing;
    using Mix = NodeAttention::Mix;
    if (copies == 1 && mixing == Mixing::ByChildren && masks.size() == 1) {
      n.how = Mix::Lone;
    } else if (copies == 1 && (mixing == Mixing::PerHead ||
                               (mixing == Mixing::ByChildren && masks.size() >= TrieOptions::kPerHeadMinChildren))) {
      n.how = Mix::PerHead;
      n.P = model_.head_projections(l, n.ctx, n.active);
    } else {
      n.how = Mix::PerChild;
      const int64_t C = model_.config().hidden_size;
      if (static_cast<int>(n.active.size()) == H) {
        n.wide = n.ctx;  // every head, in order: already full width
      } else {
        n.wide = at::zeros({x.size(0), x.size(1), C}, x.options());
        if (!n.active.empty()) {
          n.wide.index_copy_(2, ops::upload(model::head_index(n.active, C / H, C), x.device()), n.ctx);
        }
      }
    }
    return n;
  }

  // LayerNorm(x + Σ_h g_h·P_h + b_O) of layer l for each of `masks`, ready for the feed-forward.
  // With copies == 1 every mask gets its own mix of the one x (B, T, C); with copies == k, x holds
  // k stacked copies (one per mask) and one (k·B, T, C) result comes back, each copy mixed with its
  // own mask's gates.
  std::vector<at::Tensor> mix(int l, const at::Tensor& x, const NodeAttention& n, const std::vector<size_t>& masks,
                              int64_t copies) {
    using Mix = NodeAttention::Mix;
    if (n.how == Mix::Lone) {
      // A lone child (every layer of a chain): its own heads are the active ones, so one output
      // projection GEMM over them is its whole mix.
      return {model_.attention_residual(l, model_.project_heads(l, n.ctx, n.active, true), x)};
    }
    if (n.how == Mix::PerHead) return mix_heads(l, x, n, masks);
    // The active heads' context at full width, gated per mask, then one GEMM for the mix, exactly as
    // the naive executor does it, so the two executors round alike (a subtract-the-dropped-heads
    // form moved ill-conditioned metrics, e.g. Pearson at 90% sparsity, by ~2e-6).
    const int H = set_.n_heads();
    const int64_t C = model_.config().hidden_size, D = C / H;
    at::Tensor gates = at::zeros({static_cast<int64_t>(masks.size()), C});  // (masks, C)
    std::vector<bool> full(masks.size(), true);
    for (size_t j = 0; j < masks.size(); ++j) {
      for (int h = 0; h < H; ++h) {
        if (set_.kept(order_[masks[j]], l, h)) {
          gates[j].slice(0, h * D, (h + 1) * D).fill_(1.0f);
        } else {
          full[j] = false;
        }
      }
    }
    const bool all_kept = std::find(full.begin(), full.end(), false) == full.end();
    gates = ops::upload(gates, x.device()).to(x.scalar_type());
    if (copies > 1) {
      const int64_t B = x.size(0) / copies;
      const at::Tensor gated =
          all_kept ? n.wide
                   : (n.wide.view({copies, B, x.size(1), C}) * gates.view({copies, 1, 1, C})).view_as(n.wide);
      return {model_.attention_residual(l, model_.project_context(l, gated), x)};
    }
    std::vector<at::Tensor> out;
    for (size_t j = 0; j < masks.size(); ++j) {
      out.push_back(model_.attention_residual(l, model_.project_context(l, full[j] ? n.wide : n.wide * gates[j]), x));
    }
    return out;
  }

  // Per-head mixing: each active head's output projection once per node (n.P), then per mask
  // LayerNorm(x + Σ_h g_h·P_h + b_O) (one kernel on CUDA, which reads x and each P_h once per token
  // for all masks), instead of one output-projection GEMM per mask.
  std::vector<at::Tensor> mix_heads(int l, const at::Tensor& x, const NodeAttention& n,
                                    const std::vector<size_t>& masks) {
    const std::vector<int64_t>& active = n.active;
    at::Tensor gates = at::zeros({static_cast<int64_t>(masks.size()), static_cast<int64_t>(active.size())});
    auto g = gates.accessor<float, 2>();  // (masks, |A|)
    for (size_t j = 0; j < masks.size(); ++j) {
      for (size_t i = 0; i < active.size(); ++i) g[j][i] = set_.kept(order_[masks[j]], l, static_cast<int>(active[i]));
    }
    const model::LayerWeights& w = model_.weights().layers[l];
    const int64_t C = model_.config().hidden_size;
    const at::Tensor mixed = ops::head_mix_ln(n.P, gates, w.out_b, x.reshape({-1, C}), w.ln1_w, w.ln1_b,
                                              model_.config().layer_norm_eps);
    std::vector<at::Tensor> out;
    for (size_t j = 0; j < masks.size(); ++j) out.push_back(mixed[j].view(x.sizes()));
    return out;
  }

  const SweepProblem& p_;
  const model::BertModel& model_;
  const masks::MaskSet& set_;
  const std::vector<int64_t>& order_;
  std::vector<at::Tensor>& outputs_;
  const TrieOptions& opts_;
  TrieStats& stats_;
  const Batch* batch_ = nullptr;
  model::AttentionBias bias_;
  at::Tensor seq_idx_;
  size_t group_first_ = 0;
};

}  // namespace

std::vector<int64_t> trie_order(const masks::MaskSet& set, const std::vector<int64_t>& todo) {
  std::vector<int64_t> order = todo;
  const size_t LH = static_cast<size_t>(set.n_layers()) * set.n_heads();
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return std::memcmp(set.mask(a), set.mask(b), LH) < 0; });
  return order;
}

int64_t trie_layer_passes(const masks::MaskSet& set, const std::vector<int64_t>& todo, int64_t group_masks) {
  const std::vector<int64_t> order = trie_order(set, todo);
  const size_t step = static_cast<size_t>(std::max<int64_t>(1, group_masks));
  int64_t passes = 0;
  for (size_t first = 0; first < order.size(); first += std::min(step, order.size() - first)) {
    passes += count_passes(set, order, {first, first + std::min(step, order.size() - first)}, 0);
  }
  return passes;
}

void run_trie(const SweepProblem& p, const masks::MaskSet& set, const std::vector<int64_t>& todo, const MaskDone& done,
              Progress& progress, const TrieOptions& opts, TrieStats* stats_out) {
  c10::InferenceMode guard;
  TrieStats stats;
  const std::vector<int64_t> order = trie_order(set, todo);
  const int64_t S = static_cast<int64_t>(p.inputs.sequences.size());
  const int64_t X = head_output_width(*p.model, p.head);
  // Stacks of all workers together stay within the run's token budget: the memory of one batch of
  // the size the user allowed, not one per worker.
  TrieOptions o = opts;
  if (p.token_budget > 0) {
    const int workers = worker_count(p.model->device(), p.batches.size());
    o.stack_tokens = std::min(o.stack_tokens, std::max<int64_t>(1, p.token_budget / workers));
  }
  const size_t per_group = static_cast<size_t>(std::max<int64_t>(
      1, std::min(opts.group_masks, opts.group_bytes / std::max<int64_t>(1, S * X * 4))));
  std::vector<int64_t> seq_example;
  std::vector<int> seq_slot;
  for (const Sequence& s : p.inputs.sequences) {
    seq_example.push_back(s.example);
    seq_slot.push_back(s.slot);
  }
  const int L = set.n_layers();
  for (size_t first = 0; first < order.size(); first += per_group) {
    const Range group{first, std::min(order.size(), first + per_group)};
    const int64_t passes = count_passes(set, order, group, 0);
    std::vector<at::Tensor> outputs;
    for (size_t i = group.first; i < group.second; ++i) outputs.push_back(at::empty({S, X}));
    std::mutex mutex;
    // Batches an earlier, killed run of this very group finished are read back, not run again.
    std::vector<bool> have(p.batches.size(), false);
    if (p.group_store) {
      have = p.group_store->begin(std::vector<int64_t>(order.begin() + static_cast<int64_t>(group.first),
                                                       order.begin() + static_cast<int64_t>(group.second)),
                                  p.batches, outputs);
    }
    // Workers take whole batches; each writes its batch's rows of every output.
    parallel_items(p.batches.size(), [&](size_t bi) {
      const Batch& b = p.batches[bi];
      TrieStats local;
      if (!have[bi]) Walker(p, set, order, outputs, o, local).run_batch(b, group);
      std::lock_guard<std::mutex> lock(mutex);
      if (!have[bi] && p.group_store) p.group_store->batch_done(bi, outputs);
      stats.layer_passes += local.layer_passes;
      stats.attention_heads += local.attention_heads;
      // Work in the naive executor's units (padded tokens × layers per mask), so ETAs compare.
      progress.advance(static_cast<double>(b.padded_tokens) * passes / L,
                       batch_examples(p, b) * static_cast<int64_t>(group.second - group.first));
    }, p.model->device());
    ++stats.groups;
    for (size_t i = group.first; i < group.second; ++i) {
      MaskResult r;
      r.mask = order[i];
      r.predictions = example_predictions(p.head, p.inputs.n_examples, p.inputs.slots, seq_example, seq_slot,
                                          outputs[i - group.first]);
      const std::vector<double> pred(r.predictions.begin(), r.predictions.end());
      r.scores = metrics::score(p.metrics, pred, p.gold);
      r.outputs = outputs[i - group.first];
      r.burst_end = i + 1 == group.second;
      done(r);
      progress.mask_done();
    }
    // The masks are committed (burst_end): the group's outputs on disk are no longer needed.
    if (p.group_store) p.group_store->end();
  }
  if (stats_out) *stats_out = stats;
}

}  // namespace hs::sweep
