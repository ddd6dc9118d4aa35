#pragma once
// Unsigned integers of any size, just enough to count masks exactly (C(144, 72) is about 1.5e42)
// and to draw uniformly among them. Exact integer arithmetic, so the random strategy's masks do not
// depend on a machine's floating point.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace hs::masks {

class BigUint {
 public:
  BigUint(uint64_t v = 0);  // NOLINT: counts start from plain integers

  bool is_zero() const { return limbs_.empty(); }
  int bit_length() const;                  // 0 for zero
  bool fits_u64() const { return limbs_.size() <= 2; }
  uint64_t to_u64() const;                 // requires fits_u64()
  std::string to_string() const;           // decimal

  BigUint& operator+=(const BigUint& o);
  BigUint& operator-=(const BigUint& o);   // requires *this >= o
  friend BigUint operator*(const BigUint& a, const BigUint& b);
  friend bool operator<(const BigUint& a, const BigUint& b);
  friend bool operator==(const BigUint& a, const BigUint& b) { return a.limbs_ == b.limbs_; }

  // A uniform integer in [0, n), n > 0, by bitmask rejection: with b the bit length of n - 1,
  // take ceil(b / 64) outputs of `rng` as 64-bit words, least significant first, keep the low b
  // bits, and start again while the result is >= n. For n = 1 nothing is drawn. Written out so that
  // any mt19937_64 implementation reproduces it; std::uniform_int_distribution's algorithm differs
  // between standard libraries.
  static BigUint uniform_below(const BigUint& n, std::mt19937_64& rng);

 private:
  void trim();
  std::vector<uint32_t> limbs_;  // little-endian base 2^32, no leading zero limb
};

// The same for n < 2^64: uniform_below(BigUint(n), rng).to_u64(), without the allocation.
uint64_t uniform_below(uint64_t n, std::mt19937_64& rng);

}  // namespace hs::masks
