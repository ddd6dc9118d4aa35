#pragma once
// "did you mean ...?" for misspelt keys and values.
#include <string>
#include <vector>

namespace hs::io {

// The closest of `candidates` to `word` when it is plausibly a typo (edit distance at most 2, and
// less than half the word), else "".
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

// "a, b, c"
std::string join(const std::vector<std::string>& items, const std::string& sep = ", ");

}  // namespace hs::io
