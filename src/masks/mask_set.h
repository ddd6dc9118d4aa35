#pragma once
// A mask set: N gate patterns over an L x H encoder, 1 = head kept. Strategies only build these;
// the executor never asks which strategy made them.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace hs::masks {

// "L{l}.H{h}", the one way heads are printed everywhere.
std::string head_name(int l, int h);

// A mask (L, H) named by what it removes: "baseline" when nothing, otherwise "-L{l}" for each layer
// removed whole and "-L{l}.H{h}" for each other removed head, in layer-major order, e.g. "-L5.H8",
// "-L3", "-L0.H3-L2.H11". Single-head and layer masks get the names those strategies give them.
std::string removed_name(const uint8_t* mask, int n_layers, int n_heads);

class MaskSet {
 public:
  MaskSet(int n_layers, int n_heads) : L_(n_layers), H_(n_heads) {}

  int n_layers() const { return L_; }
  int n_heads() const { return H_; }
  int64_t size() const { return static_cast<int64_t>(names_.size()); }

  // mask: (L, H) row-major. Returns its index, or the index of an identical mask already present, so
  // a pattern is scored once however many strategies emit it (the first name is kept).
  int64_t add(const std::vector<uint8_t>& mask, const std::string& name);
  int64_t add(const uint8_t* mask, const std::string& name);
  // Adds every mask of `other` (same L and H) in order: the union, each distinct mask once.
  void add_all(const MaskSet& other);

  const std::vector<uint8_t>& data() const { return data_; }   // (N, L, H)
  const std::vector<std::string>& names() const { return names_; }
  const uint8_t* mask(int64_t n) const { return data_.data() + n * L_ * H_; }  // (L, H)
  bool kept(int64_t n, int l, int h) const { return mask(n)[l * H_ + h] != 0; }
  int64_t heads_kept(int64_t n) const;

 private:
  int L_, H_;
  std::vector<uint8_t> data_;
  std::vector<std::string> names_;
  // Hash of each mask's bytes -> its indices, so add() stays O(L·H) for sets of 2^16 masks.
  std::unordered_multimap<uint64_t, int64_t> index_;
};

}  // namespace hs::masks
