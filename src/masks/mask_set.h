#pragma once
// A mask set: N gate patterns over an L x H encoder, 1 = head kept. Strategies only build these;
// the executor never asks which strategy made them.
#include <cstdint>
#include <string>
#include <vector>

namespace hs::masks {

// "L{l}.H{h}", the one way heads are printed everywhere.
std::string head_name(int l, int h);

class MaskSet {
 public:
  MaskSet(int n_layers, int n_heads) : L_(n_layers), H_(n_heads) {}

  int n_layers() const { return L_; }
  int n_heads() const { return H_; }
  int64_t size() const { return static_cast<int64_t>(names_.size()); }

  // mask: (L, H) row-major. Returns its index, or the index of an identical mask already present, so
  // a pattern is scored once however many strategies emit it.
  int64_t add(const std::vector<uint8_t>& mask, const std::string& name);

  const std::vector<uint8_t>& data() const { return data_; }   // (N, L, H)
  const std::vector<std::string>& names() const { return names_; }
  const uint8_t* mask(int64_t n) const { return data_.data() + n * L_ * H_; }  // (L, H)
  bool kept(int64_t n, int l, int h) const { return mask(n)[l * H_ + h] != 0; }
  int64_t heads_kept(int64_t n) const;

 private:
  int L_, H_;
  std::vector<uint8_t> data_;
  std::vector<std::string> names_;
};

}  // namespace hs::masks
