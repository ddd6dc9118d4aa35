#pragma once
// transformers' WordpieceTokenizer: greedy longest-match-first over code points, "##" marking a piece
// that continues a word, and one [UNK] for a word that cannot be covered or is too long.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "text/vocab.h"

namespace hs::text {

class WordPiece {
 public:
  // vocab must outlive this object.
  WordPiece(const Vocab& vocab, int32_t unk_id, int max_input_chars_per_word);

  // Appends the ids of word's pieces to out.
  void tokenize(std::u32string_view word, std::vector<int32_t>& out) const;

 private:
  const Vocab& vocab_;
  int32_t unk_id_;
  size_t max_chars_;
};

}  // namespace hs::text
