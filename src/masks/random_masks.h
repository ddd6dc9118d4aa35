#pragma once
// The `random` strategy: for each sparsity s, `samples` distinct masks with round(s·L·H) heads
// removed, drawn uniformly from every mask that removes that many and keeps at least
// min_heads_per_layer heads in each layer. The draws use integer arithmetic only, so a seed gives
// the same masks with any compiler, standard library and CPU.
//
// Exactly how mask i of sparsity s is drawn (enough to reproduce it in another language):
//   k    = round(s × (L·H)), one double multiplication, halves away from zero;
//   cap  = H - min_heads_per_layer (the most heads removed from one layer);
//   rng  = std::mt19937_64 seeded with std::seed_seq{seed mod 2^32, (seed >> 32) mod 2^32, k}
//          (seed as a two's-complement 64-bit integer), one generator per sparsity, so the masks of
//          one sparsity do not change when others are added and the first n of `samples` masks do
//          not change when `samples` grows;
//   W(l, r) = the number of ways to remove r heads from layers l..L-1 with at most cap per layer
//          (W(L, 0) = 1, W(L, r > 0) = 0, W(l, r) = sum for j = 0..min(cap, r) of
//          C(H, j)·W(l+1, r-j)), in exact integers;
//   one mask: r = k; for each layer l = 0..L-1: u = uniform_below(W(l, r)), then the number j of
//          heads removed in layer l is the first j = 0, 1, ... with u < C(H, j)·W(l+1, r-j)
//          (subtracting each term passed); then which heads: a partial Fisher-Yates shuffle of
//          0..H-1, for i = 0..j-1 swap position i with i + uniform_below(H - i), and heads at
//          positions 0..j-1 are removed; r -= j.
//   A mask equal to one already drawn for this sparsity is discarded and drawing goes on, until
//   `samples` distinct masks exist; mask i is named "random-s{s}-#{i}", i from 0, s with at least
//   two decimals ("random-s0.50-#17", "random-s0.125-#3").
// uniform_below is BigUint::uniform_below (masks/big_uint.h): bitmask rejection on 64-bit outputs,
// drawing nothing when n = 1. tests/masks/random_reference.py is this description in Python.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "io/plan.h"
#include "masks/big_uint.h"
#include "masks/mask_set.h"

namespace hs::masks {

// Uniform draws among the (L, H) masks that remove exactly `heads_off` heads and keep at least
// `min_kept` heads in every layer.
class RandomMaskSampler {
 public:
  RandomMaskSampler(int n_layers, int n_heads, int heads_off, int min_kept);

  // How many distinct masks qualify (0 when none does).
  const BigUint& count() const { return ways_[0][k_]; }
  // One of them, uniformly: (L, H), 1 = kept. Requires count() > 0.
  std::vector<uint8_t> draw(std::mt19937_64& rng) const;

 private:
  int L_, H_, k_, cap_;
  std::vector<BigUint> binom_;              // C(H, j), j = 0..H
  std::vector<std::vector<BigUint>> ways_;  // ways_[l][r] = W(l, r), l = 0..L, r = 0..k
};

// round(s × (L·H)), halves away from zero.
int heads_off(double sparsity, int n_layers, int n_heads);
// The generator of one sparsity's masks, as described above.
std::mt19937_64 sparsity_generator(int64_t seed, int heads_off);
// "0.50", "0.125": two decimals, more when two would not give `s` back.
std::string sparsity_text(double s);

// The baseline, then each sparsity's masks in order. Throws InputError naming the sweep option at
// fault when a sparsity removes no head, two sparsities remove the same number of heads,
// min_heads_per_layer exceeds H or leaves too few heads to remove, or fewer than `samples` distinct
// masks exist; `where` places the message at the option in the config.
MaskSet random_masks(const io::SweepOptions& opts, int n_layers, int n_heads, const io::OptionWhere& where = {});

}  // namespace hs::masks
