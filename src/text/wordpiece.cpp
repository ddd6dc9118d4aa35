#include "text/wordpiece.h"

#include <algorithm>
#include <optional>

#include "text/unicode.h"

namespace hs::text {

WordPiece::WordPiece(const Vocab& vocab, int32_t unk_id, int max_input_chars_per_word)
    : vocab_(vocab), unk_id_(unk_id), max_chars_(static_cast<size_t>(std::max(0, max_input_chars_per_word))) {}

void WordPiece::tokenize(std::u32string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (word.size() > max_chars_) {
    out.push_back(unk_id_);
    return;
  }
  // Candidates are byte ranges of the UTF-8 spelling, cut only at code point boundaries.
  const std::string utf8 = u32_to_utf8(word);
  std::vector<size_t> bounds;  // bounds[i] = byte offset of code point i; bounds.back() = size
  bounds.reserve(word.size() + 1);
  for (size_t b = 0; b < utf8.size(); ++b)
    if ((static_cast<unsigned char>(utf8[b]) & 0xC0) != 0x80) bounds.push_back(b);
  bounds.push_back(utf8.size());

  const size_t first = out.size();
  const size_t n = bounds.size() - 1;
  const size_t max_bytes = vocab_.max_token_bytes();
  std::string candidate = "##";
  size_t start = 0;
  while (start < n) {
    const size_t prefix = start > 0 ? 2 : 0;
    size_t end = n;
    // Nothing longer than the longest vocabulary entry can match.
    while (end > start && bounds[end] - bounds[start] + prefix > max_bytes) --end;
    std::optional<int32_t> id;
    for (; end > start; --end) {
      const std::string_view piece(utf8.data() + bounds[start], bounds[end] - bounds[start]);
      if (prefix == 0) {
        id = vocab_.find(piece);
      } else {
        candidate.resize(2);
        candidate.append(piece);
        id = vocab_.find(candidate);
      }
      if (id) break;
    }
    if (!id) {
      out.resize(first);
      out.push_back(unk_id_);
      return;
    }
    out.push_back(*id);
    start = end;
  }
}

}  // namespace hs::text
