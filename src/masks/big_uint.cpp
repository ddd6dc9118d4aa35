#include "masks/big_uint.h"

#include <algorithm>
#include <stdexcept>

namespace hs::masks {

BigUint::BigUint(uint64_t v) {
  while (v != 0) {
    limbs_.push_back(static_cast<uint32_t>(v));
    v >>= 32;
  }
}

void BigUint::trim() {
  while (!limbs_.empty() && limbs_.back() == 0) limbs_.pop_back();
}

int BigUint::bit_length() const {
  if (limbs_.empty()) return 0;
  int bits = 32 * static_cast<int>(limbs_.size() - 1);
  for (uint32_t top = limbs_.back(); top != 0; top >>= 1) ++bits;
  return bits;
}

uint64_t BigUint::to_u64() const {
  if (!fits_u64()) throw std::logic_error("BigUint::to_u64: value does not fit in 64 bits");
  uint64_t v = 0;
  for (size_t i = limbs_.size(); i-- > 0;) v = (v << 32) | limbs_[i];
  return v;
}

std::string BigUint::to_string() const {
  if (limbs_.empty()) return "0";
  std::vector<uint32_t> n = limbs_;
  std::string digits;
  while (!n.empty()) {
    uint64_t rem = 0;
    for (size_t i = n.size(); i-- > 0;) {
      const uint64_t cur = (rem << 32) | n[i];
      n[i] = static_cast<uint32_t>(cur / 10);
      rem = cur % 10;
    }
    digits.push_back(static_cast<char>('0' + rem));
    while (!n.empty() && n.back() == 0) n.pop_back();
  }
  std::reverse(digits.begin(), digits.end());
  return digits;
}

BigUint& BigUint::operator+=(const BigUint& o) {
  if (limbs_.size() < o.limbs_.size()) limbs_.resize(o.limbs_.size(), 0);
  uint64_t carry = 0;
  for (size_t i = 0; i < limbs_.size(); ++i) {
    const uint64_t s = uint64_t{limbs_[i]} + (i < o.limbs_.size() ? o.limbs_[i] : 0) + carry;
    limbs_[i] = static_cast<uint32_t>(s);
    carry = s >> 32;
  }
  if (carry != 0) limbs_.push_back(static_cast<uint32_t>(carry));
  return *this;
}

BigUint& BigUint::operator-=(const BigUint& o) {
  if (*this < o) throw std::logic_error("BigUint: negative difference");
  int64_t borrow = 0;
  for (size_t i = 0; i < limbs_.size(); ++i) {
    int64_t d = int64_t{limbs_[i]} - (i < o.limbs_.size() ? o.limbs_[i] : 0) - borrow;
    borrow = d < 0 ? 1 : 0;
    if (d < 0) d += int64_t{1} << 32;
    limbs_[i] = static_cast<uint32_t>(d);
  }
  trim();
  return *this;
}

BigUint operator*(const BigUint& a, const BigUint& b) {
  BigUint out;
  if (a.is_zero() || b.is_zero()) return out;
  out.limbs_.assign(a.limbs_.size() + b.limbs_.size(), 0);
  for (size_t i = 0; i < a.limbs_.size(); ++i) {
    uint64_t carry = 0;
    for (size_t j = 0; j < b.limbs_.size(); ++j) {
      const uint64_t cur = uint64_t{a.limbs_[i]} * b.limbs_[j] + out.limbs_[i + j] + carry;
      out.limbs_[i + j] = static_cast<uint32_t>(cur);
      carry = cur >> 32;
    }
    out.limbs_[i + b.limbs_.size()] = static_cast<uint32_t>(carry);
  }
  out.trim();
  return out;
}

bool operator<(const BigUint& a, const BigUint& b) {
  if (a.limbs_.size() != b.limbs_.size()) return a.limbs_.size() < b.limbs_.size();
  for (size_t i = a.limbs_.size(); i-- > 0;)
    if (a.limbs_[i] != b.limbs_[i]) return a.limbs_[i] < b.limbs_[i];
  return false;
}

BigUint BigUint::uniform_below(const BigUint& n, std::mt19937_64& rng) {
  if (n.is_zero()) throw std::logic_error("BigUint::uniform_below: empty range");
  BigUint top = n;
  top -= BigUint(1);
  const int bits = top.bit_length();
  if (bits == 0) return BigUint();
  const int words = (bits + 63) / 64;
  const int top_bits = bits - 64 * (words - 1);
  const uint64_t top_mask = top_bits == 64 ? ~uint64_t{0} : (uint64_t{1} << top_bits) - 1;
  for (;;) {
    BigUint x;
    x.limbs_.reserve(2 * words);
    for (int w = 0; w < words; ++w) {
      uint64_t v = rng();
      if (w == words - 1) v &= top_mask;
      x.limbs_.push_back(static_cast<uint32_t>(v));
      x.limbs_.push_back(static_cast<uint32_t>(v >> 32));
    }
    x.trim();
    if (x < n) return x;
  }
}

uint64_t uniform_below(uint64_t n, std::mt19937_64& rng) {
  if (n == 0) throw std::logic_error("uniform_below: empty range");
  const uint64_t top = n - 1;
  if (top == 0) return 0;
  int bits = 0;
  for (uint64_t t = top; t != 0; t >>= 1) ++bits;
  const uint64_t mask = bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  for (;;) {
    const uint64_t v = rng() & mask;
    if (v < n) return v;
  }
}

}  // namespace hs::masks
