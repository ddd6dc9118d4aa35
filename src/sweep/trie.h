#pragma once
// The shared-prefix executor. Masks are sorted so that masks agreeing on layers 0..l-1 are adjacent;
// for each batch the sorted masks are walked as a trie over layers:
// - each distinct prefix's hidden states are computed once;
// - at a node, attention runs once, for the union of the heads its children keep (heads every
//   child gates off cost nothing), and each child's attention output is mixed from the per-head
//   output projections: out = Σ_h g_h·P_h + b_O (on CUDA, P_h once per head and the sum in one
//   kernel; on the CPU one GEMM over each child's gated context, see TrieOptions::mixing);
// - children that hold a single mask (a chain to the last layer, e.g. every child of a single-head
//   sweep) run their remaining layers stacked along the batch, up to TrieOptions::stack_tokens, so
//   siblings' continuations share taller GEMMs; heads that every stacked mask gates off still cost
//   no attention;
// - the walk is depth-first, so memory holds one path of hidden states per worker (batches run on
//   parallel_items' workers) plus one stack, never one per mask.
// Outputs are kept per mask group (masks consecutive in trie order, sized to a memory budget) until
// the group has seen every batch; then its masks are scored and reported.
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
  // Masks per group at most: a group's masks are written only once it has seen every batch, so the
  // group is also what a killed run loses. A cut costs the shared prefix's layers once more (a
  // single-head sweep of a 6 x 12 model cut in groups of 32 does 265 layer passes instead of 258,
  // measured as 1.78x instead of ~1.83x over naive), so one group holds a whole single-head sweep of
  // a 12 x 12 model (145 masks).
  int64_t group_masks = 160;
  // Padded tokens of stacked chain continuations: children that hold a single mask run their
  // remaining layers together, as one batch of up to this many tokens, and at most the problem's
  // token_budget divided among the workers.
  int64_t stack_tokens = 16384;
  // Mix a node's children from per-head projections with ops::head_mix_ln (one projection GEMM per
  // head, then a weighted sum per child) rather than one output-projection GEMM per child. Auto: on
  // CUDA, where the GEMMs dominate; on the CPU the per-child GEMM rounds exactly as the naive executor.
  enum class Mixing { Auto, PerHead, PerChild };
  Mixing mixing = Mixing::Auto;
};

// Layer passes (finish_layer calls) the trie makes per batch for these masks, in the same order
// run_trie walks them: the work unit of progress and of the benchmark's accounting.
// group_masks: the groups run_trie cuts the trie order into (each group is walked on its own).
int64_t trie_layer_passes(const masks::MaskSet& set, const std::vector<int64_t>& todo,
                          int64_t group_masks = std::numeric_limits<int64_t>::max());

// Mask indices in trie order (lexicographic over layers 0..L-1 of the gate rows).
std::vector<int64_t> trie_order(const masks::MaskSet& set, const std::vector<int64_t>& todo);

void run_trie(const SweepProblem& problem, const masks::MaskSet& set, const std::vector<int64_t>& todo,
              const MaskDone& done, Progress& progress, const TrieOptions& opts = {}, TrieStats* stats = nullptr);

}  // namespace hs::sweep
