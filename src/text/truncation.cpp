#include "text/truncation.h"

#include <algorithm>

namespace hs::text {
namespace {

void drop_back(std::vector<int32_t>& v, size_t n) { v.resize(v.size() - std::min(n, v.size())); }

}  // namespace

void truncate_longest_first(std::vector<int32_t>& a, std::vector<int32_t>* b, size_t num_tokens_to_remove) {
  if (num_tokens_to_remove == 0) return;
  if (b == nullptr) {
    if (a.size() > num_tokens_to_remove) drop_back(a, num_tokens_to_remove);
    return;
  }
  // The closed form transformers 4.x uses; it equals removing one id at a time from the longer
  // sequence, taking from b on ties.
  const size_t len_a = a.size();
  const size_t len_b = b->size();
  const size_t diff = len_a > len_b ? len_a - len_b : len_b - len_a;
  const size_t first = std::min(diff, num_tokens_to_remove);
  const size_t second = num_tokens_to_remove - first;
  size_t from_a, from_b;
  if (len_a > len_b) {
    from_a = first + second / 2;
    from_b = second - second / 2;
  } else {
    from_a = second / 2;
    from_b = first + second - second / 2;
  }
  drop_back(a, from_a);
  drop_back(*b, from_b);
}

}  // namespace hs::text
