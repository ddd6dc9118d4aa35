#include "masks/strategies.h"

#include <algorithm>

#include <fmt/format.h>

#include "masks/mask_file.h"
#include "masks/random_masks.h"
#include "util/error.h"

namespace hs::masks {

namespace {

constexpr int kMaxExhaustiveHeads = 16;

std::vector<uint8_t> full_mask(int L, int H) { return std::vector<uint8_t>(static_cast<size_t>(L) * H, 1); }

MaskSet with_baseline(int L, int H) {
  MaskSet set(L, H);
  set.add(full_mask(L, H), "baseline");
  return set;
}

MaskSet single_head(int L, int H) {
  MaskSet set = with_baseline(L, H);
  for (int l = 0; l < L; ++l) {
    for (int h = 0; h < H; ++h) {
      std::vector<uint8_t> m = full_mask(L, H);
      m[l * H + h] = 0;
      set.add(m, "-" + head_name(l, h));
    }
  }
  return set;
}

MaskSet layer(int L, int H) {
  MaskSet set = with_baseline(L, H);
  for (int l = 0; l < L; ++l) {
    std::vector<uint8_t> m = full_mask(L, H);
    std::fill(m.begin() + l * H, m.begin() + (l + 1) * H, 0);
    set.add(m, fmt::format("-L{}", l));
  }
  return set;
}

MaskSet leave_one_in(int L, int H) {
  MaskSet set = with_baseline(L, H);
  for (int l = 0; l < L; ++l) {
    for (int h = 0; h < H; ++h) {
      std::vector<uint8_t> m = full_mask(L, H);
      std::fill(m.begin() + l * H, m.begin() + (l + 1) * H, 0);
      m[l * H + h] = 1;
      set.add(m, head_name(l, h) + "-only");
    }
  }
  return set;
}

MaskSet exhaustive_layer(int target, int L, int H, const io::OptionWhere& where) {
  if (target < 0 || target >= L) where.fail("sweep.layer", "{}, but the model has {} layers (0 to {})", target, L, L - 1);
  if (H > kMaxExhaustiveHeads)
    where.fail("sweep.strategy",
               "exhaustive-layer: the model has H = {} heads per layer, which makes 2^{} masks; at most {} heads "
               "({} masks) are supported",
               H, H, kMaxExhaustiveHeads, 1 << kMaxExhaustiveHeads);
  MaskSet set = with_baseline(L, H);
  for (uint32_t removed = 1; removed < (uint32_t{1} << H); ++removed) {
    std::vector<uint8_t> m = full_mask(L, H);
    for (int h = 0; h < H; ++h)
      if (removed & (uint32_t{1} << h)) m[target * H + h] = 0;
    set.add(m, removed_name(m.data(), L, H));
  }
  return set;
}

MaskSet one_strategy(const StrategyInfo& s, const io::SweepOptions& opts, int L, int H,
                     const io::OptionWhere& where) {
  switch (s.kind) {
    case StrategyKind::Baseline: return with_baseline(L, H);
    case StrategyKind::SingleHead: return single_head(L, H);
    case StrategyKind::Layer: return layer(L, H);
    case StrategyKind::LeaveOneIn: return leave_one_in(L, H);
    case StrategyKind::Random: return random_masks(opts, L, H, where);
    case StrategyKind::ExhaustiveLayer: return exhaustive_layer(opts.layer, L, H, where);
    case StrategyKind::File: return read_mask_file(opts.path, opts.dataset, L, H, where);
  }
  throw std::logic_error("unhandled strategy " + s.name);
}

const StrategyInfo& known(const std::string& name) {
  const StrategyInfo* s = find_strategy(name);
  if (!s) {
    std::vector<std::string> names;
    for (const auto& info : strategies()) names.push_back(info.name);
    input_error("unknown sweep strategy '{}' (known: {})", name, fmt::join(names, ", "));
  }
  return *s;
}

}  // namespace

const std::vector<StrategyInfo>& strategies() {
  static const std::vector<StrategyInfo> all = {
      {StrategyKind::Baseline, "baseline", "the full model only", false},
      {StrategyKind::SingleHead, "single-head", "baseline plus each head removed alone (1 + L*H masks)", false},
      {StrategyKind::Layer, "layer", "baseline plus all heads of each layer removed (1 + L masks)", false},
      {StrategyKind::LeaveOneIn, "leave-one-in",
       "baseline plus, for each head, its layer reduced to that head alone (1 + L*H masks)", false},
      {StrategyKind::Random, "random",
       "baseline plus `samples` uniform random masks per sparsity (round(s*L*H) heads removed)", true},
      {StrategyKind::ExhaustiveLayer, "exhaustive-layer",
       "every subset of one layer's heads removed (2^H masks, H <= 16)", true},
      {StrategyKind::File, "file", "masks read from an HDF5, .npy or text file", true},
  };
  return all;
}

const StrategyInfo* find_strategy(const std::string& name) {
  for (const auto& s : strategies())
    if (s.name == name) return &s;
  return nullptr;
}

MaskSet make_masks(const io::SweepOptions& opts, int L, int H, const io::OptionWhere& where) {
  if (opts.strategies.empty()) input_error("sweep.strategy: no strategy given");
  // Every name is checked before any set is built, so a typo at the end fails fast.
  std::vector<const StrategyInfo*> todo;
  for (const std::string& name : opts.strategies) todo.push_back(&known(name));
  MaskSet out = with_baseline(L, H);
  for (const StrategyInfo* s : todo) out.add_all(one_strategy(*s, opts, L, H, where));
  return out;
}

MaskSet make_masks(const std::string& strategy, int L, int H) {
  const StrategyInfo& s = known(strategy);
  if (s.takes_options)
    input_error("sweep strategy '{}' needs its sweep options; build it with make_masks(SweepOptions, L, H)",
                strategy);
  return one_strategy(s, io::SweepOptions{}, L, H, io::OptionWhere{});
}

}  // namespace hs::masks
