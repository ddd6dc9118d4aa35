#include "masks/mask_set.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace hs::masks {

std::string head_name(int l, int h) { return fmt::format("L{}.H{}", l, h); }

int64_t MaskSet::add(const std::vector<uint8_t>& mask, const std::string& name) {
  const size_t LH = static_cast<size_t>(L_) * H_;
  if (mask.size() != LH) throw std::invalid_argument(fmt::format("mask {} has {} entries, expected {}", name, mask.size(), LH));
  for (int64_t n = 0; n < size(); ++n) {
    if (std::equal(mask.begin(), mask.end(), data_.begin() + n * LH)) return n;
  }
  data_.insert(data_.end(), mask.begin(), mask.end());
  names_.push_back(name);
  return size() - 1;
}

int64_t MaskSet::heads_kept(int64_t n) const {
  const uint8_t* m = mask(n);
  return std::count_if(m, m + L_ * H_, [](uint8_t v) { return v != 0; });
}

}  // namespace hs::masks
