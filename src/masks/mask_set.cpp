#include "masks/mask_set.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace hs::masks {

namespace {

// FNV-1a over the mask bytes.
uint64_t hash_bytes(const uint8_t* p, size_t n) {
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

std::string head_name(int l, int h) { return fmt::format("L{}.H{}", l, h); }

std::string removed_name(const uint8_t* mask, int L, int H) {
  std::string out;
  for (int l = 0; l < L; ++l) {
    const uint8_t* row = mask + static_cast<size_t>(l) * H;
    if (std::all_of(row, row + H, [](uint8_t v) { return v == 0; })) {
      out += fmt::format("-L{}", l);
      continue;
    }
    for (int h = 0; h < H; ++h)
      if (row[h] == 0) out += "-" + head_name(l, h);
  }
  return out.empty() ? "baseline" : out;
}

int64_t MaskSet::add(const std::vector<uint8_t>& mask, const std::string& name) {
  const size_t LH = static_cast<size_t>(L_) * H_;
  if (mask.size() != LH) throw std::invalid_argument(fmt::format("mask {} has {} entries, expected {}", name, mask.size(), LH));
  return add(mask.data(), name);
}

int64_t MaskSet::add(const uint8_t* mask, const std::string& name) {
  const size_t LH = static_cast<size_t>(L_) * H_;
  const uint64_t h = hash_bytes(mask, LH);
  const auto [first, last] = index_.equal_range(h);
  for (auto it = first; it != last; ++it) {
    if (std::equal(mask, mask + LH, data_.begin() + it->second * LH)) return it->second;
  }
  data_.insert(data_.end(), mask, mask + LH);
  names_.push_back(name);
  index_.emplace(h, size() - 1);
  return size() - 1;
}

void MaskSet::add_all(const MaskSet& other) {
  if (other.L_ != L_ || other.H_ != H_)
    throw std::invalid_argument(fmt::format("cannot pool masks of {} x {} heads with masks of {} x {}",
                                            other.L_, other.H_, L_, H_));
  for (int64_t n = 0; n < other.size(); ++n) add(other.mask(n), other.names_[n]);
}

int64_t MaskSet::heads_kept(int64_t n) const {
  const uint8_t* m = mask(n);
  return std::count_if(m, m + L_ * H_, [](uint8_t v) { return v != 0; });
}

}  // namespace hs::masks
