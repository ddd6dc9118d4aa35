#pragma once
// Mask strategies. Each one emits a MaskSet whose first mask is the unablated baseline.
#include <string>
#include <vector>

#include "masks/mask_set.h"

namespace hs::masks {

struct StrategyInfo {
  std::string name;
  std::string help;
};

// The strategies a config may name (sweep.strategy).
const std::vector<StrategyInfo>& strategies();

// baseline: the full model only. single-head: baseline plus each head removed alone ("-L{l}.H{h}").
// layer: baseline plus each layer's heads all removed ("-L{l}").
MaskSet make_masks(const std::string& strategy, int n_layers, int n_heads);

}  // namespace hs::masks
