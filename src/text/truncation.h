#pragma once
// transformers' `truncate_sequences` with truncation_side "right".
#include <cstddef>
#include <cstdint>
#include <vector>

namespace hs::text {

// Removes num_tokens_to_remove ids from the ends of a and b (b may be null for a single sequence)
// the way strategy "longest_first" does: first from the longer sequence until both are equal, then
// alternately, b losing the odd one. For a single sequence that is too short to lose that many ids,
// transformers leaves it untouched (and logs an error); so does this.
void truncate_longest_first(std::vector<int32_t>& a, std::vector<int32_t>* b, size_t num_tokens_to_remove);

}  // namespace hs::text
