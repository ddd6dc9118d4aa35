#pragma once
// Mask strategies. Each one emits a MaskSet whose first mask is the unablated baseline; a list of
// strategies emits the union of their sets, each distinct mask once, under the name its first
// emitter gave it.
#include <string>
#include <vector>

#include "io/plan.h"
#include "masks/mask_set.h"

namespace hs::masks {

enum class StrategyKind { Baseline, SingleHead, Layer, LeaveOneIn, Random, ExhaustiveLayer, File };

struct StrategyInfo {
  StrategyKind kind;
  std::string name;  // as sweep.strategy names it
  std::string help;
  bool takes_options;  // reads sweep options beyond sweep.strategy
};

// The strategies a config may name (sweep.strategy), in the order the docs list them.
const std::vector<StrategyInfo>& strategies();
// The strategy called `name`, or nullptr.
const StrategyInfo* find_strategy(const std::string& name);

// What each strategy emits after the baseline ("baseline"):
//   baseline          nothing more (1 mask);
//   single-head       each head removed alone, "-L{l}.H{h}" (1 + L·H);
//   layer             each layer's heads all removed, "-L{l}" (1 + L);
//   leave-one-in      for each layer l and head h, layer l with only h kept, every other layer
//                     full (Michel et al. 2019, Table 3), "L{l}.H{h}-only" (1 + L·H when H > 1);
//   random            see masks/random_masks.h ("random-s0.50-#17");
//   exhaustive-layer  every subset of the heads of layer opts.layer removed, others full, in the
//                     order of the binary number whose bit h is head h removed; names as
//                     removed_name() (2^H masks, the empty subset being the baseline); H <= 16;
//   file              the masks of opts.path, see masks/mask_file.h.
// Throws InputError for an unknown strategy, and for options that do not fit the model (the message
// names the option, at its place in the config when `where` knows it: sweep.layer beyond L, masks
// of another shape, ...).
MaskSet make_masks(const io::SweepOptions& opts, int n_layers, int n_heads, const io::OptionWhere& where = {});

// One strategy that takes no options (baseline, single-head, layer, leave-one-in); the others need
// make_masks(SweepOptions, ...) and throw InputError here.
MaskSet make_masks(const std::string& strategy, int n_layers, int n_heads);

}  // namespace hs::masks
