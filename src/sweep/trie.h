#pragma once
// The shared-prefix executor. Masks are sorted so that masks agreeing on layers 0..l-1 are adjacent;
// for each batch the sorted masks are walked as a trie over layers:
// - each distinct prefix's hidden states are computed once;
// - at a node, attention runs once, for the union of the heads its children keep (heads every
//   child gates off cost nothing), and each child's attention output is mixed from the per-head
//   output projection: out = LayerNorm(x + Σ_h g_h·P_h + b_O) (on CUDA, for nodes with many
//   children, P_h once per head, then one kernel for a chunk of children's sums, residuals and
//   LayerNorms; otherwise one GEMM per child over its gated context; see TrieOptions::mixing);
//   children are mixed and continued a chunk at a time, so a node holds a chunk of outputs, not
//   one per child (TrieOptions::min_mix_children), and a chunk's chains run before its deeper
//   children, whose walk then finds the node's shared tensors already dropped;
// - children that hold a single mask (a chain to the last layer, e.g. every child of a single-head
//   sweep) run their remaining layers stacked along the batch, up to TrieOptions::stack_tokens, so
//   siblings' continuations share taller GEMMs; heads that every stacked mask gates off still cost
//   no attention;
// - the walk is depth-first, so memory holds one path of hidden states per worker (batches run on
//   parallel_items' workers) plus one stack, never one per mask.
// Outputs are kept per mask group (masks consecutive in trie order, sized to a memory budget) until
// the group has seen every batch; then its masks are scored and reported.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "sweep/executor.h"

namespace hs::sweep {

struct TrieStats {
  int64_t layer_passes = 0;     // feed-forward blocks run, per batch row, summed over batches
  int64_t attention_heads = 0;  // heads whose attention was computed, summed over nodes and batches
  int64_t groups = 0;
};

struct TrieOptions {
  int64_t group_bytes = int64_t{1} << 29;  // per-mask outputs kept at once
  // Masks per group at most: a group's masks are written only once it has seen every batch (a killed
  // run keeps the finished batches through SweepProblem::group_store). A cut costs the shared prefix's layers once more (a
  // single-head sweep of a 6 x 12 model cut in groups of 32 does 265 layer passes instead of 258,
  // measured as 1.78x instead of ~1.83x over naive), so one group holds a whole single-head sweep of
  // a 12 x 12 model (145 masks).
  int64_t group_masks = 160;
  // Padded tokens of stacked chain continuations: children that hold a single mask run their
  // remaining layers together, as one batch of up to this many tokens, and at most the problem's
  // token_budget divided among the workers.
  int64_t stack_tokens = 16384;
  // Children of a node whose attention outputs are held at once: as many as stack_tokens padded
  // tokens hold, and at least this many, so that per-head mixing still reads each head's
  // projection once for many children (a node of a single-head sweep of a 12-head model, 13
  // children, is one chunk). Without the bound a node of random masks held one output per child:
  // up to group_masks (160) copies of the batch's hidden states.
  int64_t min_mix_children = 16;
  // How a node's children get their attention output from the shared context:
  // - PerChild: one output-projection GEMM per child over its gated full-width context; it rounds
  //   exactly as the naive executor, hence the CPU's choice;
  // - PerHead: each active head's projection P_h once (a batched GEMM), then every child's
  //   LayerNorm(x + Σ_h g_h·P_h + b_O) in one ops::head_mix_ln pass. Writing and re-reading the H
  //   projections costs about as much memory traffic as 3-4 per-child passes (BERT-base, bf16), so
  //   it pays from kPerHeadMinChildren children on;
  // - ByChildren: PerHead from kPerHeadMinChildren children, one GEMM over its own heads for a lone
  //   child (every layer of a chain: the bulk of a single-head sweep), PerChild in between;
  // - Auto: ByChildren on CUDA, PerChild on the CPU.
  enum class Mixing { Auto, PerHead, PerChild, ByChildren };
  Mixing mixing = Mixing::Auto;
  static constexpr size_t kPerHeadMinChildren = 4;
};

// Layer passes (feed-forward blocks run) the trie makes per batch for these masks, in the same order
// run_trie walks them: the work unit of progress and of the benchmark's accounting.
// group_masks: the groups run_trie cuts the trie order into (each group is walked on its own).
int64_t trie_layer_passes(const masks::MaskSet& set, const std::vector<int64_t>& todo,
                          int64_t group_masks = std::numeric_limits<int64_t>::max());

// Mask indices in trie order (lexicographic over layers 0..L-1 of the gate rows).
std::vector<int64_t> trie_order(const masks::MaskSet& set, const std::vector<int64_t>& todo);

void run_trie(const SweepProblem& problem, const masks::MaskSet& set, const std::vector<int64_t>& todo,
              const MaskDone& done, Progress& progress, const TrieOptions& opts = {}, TrieStats* stats = nullptr);

}  // namespace hs::sweep
