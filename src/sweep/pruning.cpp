#include "sweep/pruning.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>

#include <fmt/format.h>

#include "metrics/bootstrap.h"

namespace hs::sweep {

std::vector<double> random_head_scores(int L, int H, uint64_t seed) {
  std::vector<double> order(static_cast<size_t>(L) * H);
  std::iota(order.begin(), order.end(), 0.0);
  std::mt19937_64 rng(seed);
  for (size_t i = order.size(); i > 1; --i) {  // Fisher-Yates
    std::swap(order[i - 1], order[metrics::uniform_below(i, rng)]);
  }
  return order;
}

PruningCurve prune_curve(const std::string& name, int L, int H, const PruningSchedule& schedule,
                         const HeadScores& scores) {
  const int64_t LH = static_cast<int64_t>(L) * H;
  std::vector<int64_t> targets;
  if (schedule.kind == "percent") {
    double last = -1;
    for (double f : schedule.fractions) {
      if (!(f >= 0 && f <= 1) || f <= last)
        throw std::invalid_argument(fmt::format("pruning: fractions must increase within [0, 1], got {}", f));
      last = f;
      // Rounded down, as Michel et al.'s int(percent / 100 * n_heads); the 1e-9 keeps a product such
      // as 0.29 * 100 = 28.999999999999996 from losing a head to binary fractions.
      targets.push_back(static_cast<int64_t>(std::floor(f * static_cast<double>(LH) + 1e-9)));
    }
  } else if (schedule.kind == "count") {
    if (schedule.count < 1) throw std::invalid_argument("pruning: count must be at least 1");
    for (int64_t t = schedule.count; t < LH + schedule.count; t += schedule.count) targets.push_back(std::min(t, LH));
  } else {
    throw std::invalid_argument("pruning: unknown schedule " + schedule.kind);
  }
  PruningCurve c;
  c.name = name;
  std::vector<uint8_t> mask(LH, 1);
  std::vector<int> kept_in_layer(L, H);
  int64_t pruned = 0;
  auto record = [&] {
    c.masks.push_back(mask);
    c.heads_pruned.push_back(pruned);
    c.fractions.push_back(static_cast<double>(pruned) / static_cast<double>(LH));
  };
  record();
  for (int64_t target : targets) {
    if (target <= pruned) continue;
    const std::vector<double> s = scores(mask);  // a fixed ranking returns the same every step
    if (static_cast<int64_t>(s.size()) != LH)
      throw std::invalid_argument(fmt::format("pruning: {} head scores for {} heads", s.size(), LH));
    std::vector<int64_t> order;
    for (int64_t g = 0; g < LH; ++g)
      if (mask[g]) order.push_back(g);
    // Least important first; ties by head index, so the order is deterministic.
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return s[a] < s[b]; });
    for (int64_t g : order) {
      if (pruned == target) break;
      const int l = static_cast<int>(g / H);
      if (kept_in_layer[l] <= schedule.min_heads_per_layer) continue;
      mask[g] = 0;
      --kept_in_layer[l];
      ++pruned;
    }
    if (pruned == c.heads_pruned.back()) break;  // no head may go any more
    record();
    if (pruned < target) break;
  }
  return c;
}

}  // namespace hs::sweep
