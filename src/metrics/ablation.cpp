#include "metrics/ablation.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "metrics/correlation.h"

namespace hs::metrics {

std::vector<double> ablation_importance(const std::vector<uint8_t>& masks, const std::vector<double>& scores, int L,
                                        int H) {
  const size_t LH = static_cast<size_t>(L) * H;
  if (LH == 0 || masks.size() != scores.size() * LH)
    throw std::invalid_argument("ablation_importance: masks and scores disagree");
  std::vector<double> out(LH, std::numeric_limits<double>::quiet_NaN());
  const size_t N = scores.size();
  double baseline = std::numeric_limits<double>::quiet_NaN();
  std::vector<int64_t> removing(LH, -1);
  for (size_t n = 0; n < N; ++n) {
    int64_t off = -1, count = 0;
    for (size_t g = 0; g < LH; ++g) {
      if (masks[n * LH + g] == 0) {
        off = static_cast<int64_t>(g);
        ++count;
      }
    }
    if (count == 0) baseline = scores[n];
    if (count == 1) removing[off] = static_cast<int64_t>(n);
  }
  for (size_t g = 0; g < LH; ++g) {
    if (removing[g] >= 0) out[g] = baseline - scores[removing[g]];
  }
  return out;
}

double rank_agreement(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) throw std::invalid_argument("rank_agreement: sizes differ");
  std::vector<double> x, y;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isfinite(a[i]) && std::isfinite(b[i])) {
      x.push_back(a[i]);
      y.push_back(b[i]);
    }
  }
  if (x.size() < 3) return std::numeric_limits<double>::quiet_NaN();
  return spearman(x, y);
}

}  // namespace hs::metrics
