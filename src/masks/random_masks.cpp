#include "masks/random_masks.h"

#include <charconv>
#include <cmath>
#include <map>
#include <numeric>
#include <stdexcept>

#include <fmt/format.h>

#include "util/error.h"

namespace hs::masks {

RandomMaskSampler::RandomMaskSampler(int L, int H, int k, int min_kept)
    : L_(L), H_(H), k_(k), cap_(H - min_kept) {
  if (L < 1 || H < 1 || k < 0 || k > L * H || min_kept < 0 || min_kept > H)
    throw std::invalid_argument(fmt::format("RandomMaskSampler: bad arguments L={} H={} k={} min_kept={}",
                                            L, H, k, min_kept));
  // Pascal's triangle, row H.
  std::vector<BigUint> row{BigUint(1)};
  for (int n = 1; n <= H; ++n) {
    std::vector<BigUint> next(n + 1, BigUint(1));
    for (int j = 1; j < n; ++j) next[j] = row[j - 1], next[j] += row[j];
    row = std::move(next);
  }
  binom_ = std::move(row);
  ways_.assign(L + 1, std::vector<BigUint>(k + 1));
  ways_[L][0] = BigUint(1);
  for (int l = L - 1; l >= 0; --l) {
    for (int r = 0; r <= k; ++r) {
      BigUint total;
      for (int j = 0; j <= std::min(cap_, r); ++j)
        if (!ways_[l + 1][r - j].is_zero()) total += binom_[j] * ways_[l + 1][r - j];
      ways_[l][r] = std::move(total);
    }
  }
}

std::vector<uint8_t> RandomMaskSampler::draw(std::mt19937_64& rng) const {
  if (count().is_zero()) throw std::logic_error("RandomMaskSampler::draw: no mask qualifies");
  std::vector<uint8_t> mask(static_cast<size_t>(L_) * H_, 1);
  std::vector<int> order(H_);
  int r = k_;
  for (int l = 0; l < L_; ++l) {
    BigUint u = BigUint::uniform_below(ways_[l][r], rng);
    int j = 0;
    for (;; ++j) {
      const BigUint w = binom_[j] * ways_[l + 1][r - j];
      if (u < w) break;
      u -= w;
    }
    std::iota(order.begin(), order.end(), 0);
    for (int i = 0; i < j; ++i) {
      const int t = i + static_cast<int>(uniform_below(static_cast<uint64_t>(H_ - i), rng));
      std::swap(order[i], order[t]);
      mask[static_cast<size_t>(l) * H_ + order[i]] = 0;
    }
    r -= j;
  }
  return mask;
}

int heads_off(double sparsity, int L, int H) {
  return static_cast<int>(std::llround(sparsity * static_cast<double>(L * H)));
}

std::mt19937_64 sparsity_generator(int64_t seed, int k) {
  const uint64_t s = static_cast<uint64_t>(seed);
  std::seed_seq seq{static_cast<uint32_t>(s & 0xffffffffu), static_cast<uint32_t>(s >> 32),
                    static_cast<uint32_t>(k)};
  return std::mt19937_64(seq);
}

std::string sparsity_text(double s) {
  std::string text = fmt::format("{:.2f}", s);
  double back = 0;
  std::from_chars(text.data(), text.data() + text.size(), back);
  return back == s ? text : fmt::format("{}", s);
}

MaskSet random_masks(const io::SweepOptions& opts, int L, int H, const io::OptionWhere& where) {
  const int LH = L * H;
  if (opts.samples < 1) where.fail("sweep.samples", "expected at least 1, got {}", opts.samples);
  if (opts.sparsities.empty()) where.fail("sweep.sparsities", "expected at least one sparsity");
  if (opts.min_heads_per_layer < 0 || opts.min_heads_per_layer > H)
    where.fail("sweep.min_heads_per_layer", "{}, but the model has {} heads per layer", opts.min_heads_per_layer, H);
  MaskSet out(L, H);
  out.add(std::vector<uint8_t>(static_cast<size_t>(LH), 1), "baseline");
  std::map<int, double> sparsity_of;  // heads removed -> the sparsity that removes them
  for (double s : opts.sparsities) {
    if (!(s > 0 && s < 1)) where.fail("sweep.sparsities", "expected numbers above 0 and below 1, got {}", s);
    const int k = heads_off(s, L, H);
    if (k == 0) where.fail("sweep.sparsities", "{} of the model's {} heads rounds to 0 heads removed", s, LH);
    if (const auto it = sparsity_of.find(k); it != sparsity_of.end())
      where.fail("sweep.sparsities", "{} and {} both remove {} of the model's {} heads", it->second, s, k, LH);
    sparsity_of[k] = s;
    const RandomMaskSampler sampler(L, H, k, opts.min_heads_per_layer);
    if (sampler.count().is_zero())
      where.fail("sweep.sparsities",
                 "{} removes {} of the model's {} heads, but sweep.min_heads_per_layer {} leaves at most {} to remove", s,
                 k, LH, opts.min_heads_per_layer, L * (H - opts.min_heads_per_layer));
    if (sampler.count() < BigUint(static_cast<uint64_t>(opts.samples)))
      where.fail("sweep.samples", "{}, but only {} distinct masks remove {} of the model's {} heads (sparsity {}{})",
                 opts.samples, sampler.count().to_string(), k, LH, s,
                 opts.min_heads_per_layer > 0 ? fmt::format(", at least {} kept per layer", opts.min_heads_per_layer)
                                              : std::string());
    std::mt19937_64 rng = sparsity_generator(opts.seed, k);
    const std::string prefix = "random-s" + sparsity_text(s) + "-#";
    MaskSet drawn(L, H);  // this sparsity's masks, to discard repeats
    while (drawn.size() < opts.samples) {
      const std::vector<uint8_t> m = sampler.draw(rng);
      const int64_t before = drawn.size();
      const std::string name = prefix + std::to_string(before);
      drawn.add(m, name);
      if (drawn.size() > before) out.add(m, name);
    }
  }
  return out;
}

}  // namespace hs::masks
