#pragma once
// Iterative head pruning (Michel et al. 2019 §5, Hugging Face run_bertology.py): a curve of masks,
// each removing more heads, in the order some head scores give (least important first). The curve's
// masks are generated before the sweep and scored with every other mask; the scores fill the curve
// afterwards (sweep_stats.h).
//   percent  at each fraction f of `fractions`, ⌊f·L·H⌋ heads are removed in total (Michel: rounded down);
//   count    `count` more heads each step until no head may go (bertology; its stop at a fraction
//            of the baseline is read off the scored curve, not used to cut it).
// Scores come from a provider called with the current mask: a fixed ranking ignores it; with
// recompute the gradient importance is taken again under the mask (bertology always recomputes).
// min_heads_per_layer keeps that many heads in every layer: a head whose removal would go below is
// skipped, and the curve ends when no head may be removed.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace hs::sweep {

struct PruningSchedule {
  std::string kind = "percent";      // percent | count
  std::vector<double> fractions;     // percent: of all L·H heads, increasing, each in [0, 1]
  int64_t count = 1;                 // count: heads per step
  int min_heads_per_layer = 0;
};

struct PruningCurve {
  std::string name;                        // "importance", "random-0", "ablation"
  std::vector<std::vector<uint8_t>> masks;  // step s: (L, H), 1 = kept; step 0 is the full model
  std::vector<int64_t> heads_pruned;       // (S)
  std::vector<double> fractions;           // (S) heads_pruned / (L·H)
};

// (L·H) head scores at a mask (higher = more important; heads already removed are ignored).
using HeadScores = std::function<std::vector<double>(const std::vector<uint8_t>& mask)>;

PruningCurve prune_curve(const std::string& name, int L, int H, const PruningSchedule& schedule,
                         const HeadScores& scores);

// A random order as head scores: a seeded permutation (std::mt19937_64, exact integer mapping), so
// the same seed gives the same order everywhere.
std::vector<double> random_head_scores(int L, int H, uint64_t seed);

}  // namespace hs::sweep
