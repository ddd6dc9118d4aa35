#include "masks/strategies.h"

#include <fmt/format.h>

#include "util/error.h"

namespace hs::masks {

const std::vector<StrategyInfo>& strategies() {
  static const std::vector<StrategyInfo> all = {
      {"baseline", "the full model only"},
      {"single-head", "baseline plus each head removed alone (1 + L*H masks)"},
      {"layer", "baseline plus all heads of each layer removed (1 + L masks)"},
  };
  return all;
}

MaskSet make_masks(const std::string& strategy, int L, int H) {
  MaskSet set(L, H);
  const std::vector<uint8_t> full(static_cast<size_t>(L) * H, 1);
  set.add(full, "baseline");
  if (strategy == "baseline") return set;
  if (strategy == "single-head") {
    for (int l = 0; l < L; ++l) {
      for (int h = 0; h < H; ++h) {
        std::vector<uint8_t> m = full;
        m[l * H + h] = 0;
        set.add(m, "-" + head_name(l, h));
      }
    }
    return set;
  }
  if (strategy == "layer") {
    for (int l = 0; l < L; ++l) {
      std::vector<uint8_t> m = full;
      std::fill(m.begin() + l * H, m.begin() + (l + 1) * H, 0);
      set.add(m, fmt::format("-L{}", l));
    }
    return set;
  }
  hs::input_error("unknown sweep strategy '{}'", strategy);
}

}  // namespace hs::masks
