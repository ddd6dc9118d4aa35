#pragma once
// transformers' BasicTokenizer: cleaning, CJK spacing, NFC, whitespace split, lower-casing and accent
// stripping, then splitting off punctuation. Produces the words that WordPiece then cuts into pieces.
#include <string>
#include <string_view>
#include <vector>

#include "text/options.h"

namespace hs::text {

class BasicTokenizer {
 public:
  // never_split: words kept exactly as written (no lower-casing, accents or punctuation splitting);
  // transformers passes the special tokens here.
  BasicTokenizer(TokenizerOptions opts, std::vector<std::u32string> never_split);

  std::vector<std::u32string> tokenize(std::u32string_view text) const;

 private:
  bool never_split(std::u32string_view word) const;
  // Normalises one whitespace-separated word and appends its punctuation-split parts to out.
  void split_word(std::u32string_view word, std::vector<std::u32string>& out) const;

  TokenizerOptions opts_;
  std::vector<std::u32string> never_split_;
};

// `_clean_text` then `_tokenize_chinese_chars` (when cjk is set).
std::u32string clean_text(std::u32string_view text, bool cjk);

}  // namespace hs::text
