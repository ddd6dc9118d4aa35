#include "text/basic_tokenizer.h"

#include <algorithm>

#include "text/unicode.h"

namespace hs::text {
namespace {

// Splits on Python whitespace (str.split()), appending the non-empty parts.
void split_on_space(std::u32string_view text, std::vector<std::u32string>& out) {
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && !is_python_space(text[i])) continue;
    if (i > start) out.emplace_back(text.substr(start, i - start));
    start = i + 1;
  }
}

}  // namespace

std::u32string clean_text(std::u32string_view text, bool cjk) {
  std::u32string out;
  out.reserve(text.size() + 8);
  for (char32_t c : text) {
    if (c == 0 || c == 0xFFFD || is_bert_control(c)) continue;
    if (is_bert_whitespace(c)) {
      out.push_back(U' ');
    } else if (cjk && is_cjk_ideograph(c)) {
      out.push_back(U' ');
      out.push_back(c);
      out.push_back(U' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

BasicTokenizer::BasicTokenizer(TokenizerOptions opts, std::vector<std::u32string> never_split)
    : opts_(opts), never_split_(std::move(never_split)) {}

bool BasicTokenizer::never_split(std::u32string_view word) const {
  return std::find(never_split_.begin(), never_split_.end(), word) != never_split_.end();
}

std::vector<std::u32string> BasicTokenizer::tokenize(std::u32string_view text) const {
  // NFC after cleaning, as in the transformers release the goldens come from (4.41): precomposed
  // and decomposed spellings of a letter give the same word even when accents are kept.
  const std::u32string normalized = nfc(clean_text(text, opts_.tokenize_chinese_chars));
  std::vector<std::u32string> words;
  split_on_space(normalized, words);
  std::vector<std::u32string> out;
  out.reserve(words.size() + words.size() / 2);
  for (const std::u32string& w : words) {
    if (never_split(w)) {
      out.push_back(w);
      continue;
    }
    split_word(w, out);
  }
  return out;
}

void BasicTokenizer::split_word(std::u32string_view word, std::vector<std::u32string>& out) const {
  std::u32string w(word);
  if (opts_.do_lower_case) w = lower(w);
  if (opts_.strips_accents()) w = strip_accents(w);

  // Punctuation marks stand alone; the runs between them can, in principle, pick up Python
  // whitespace from case mapping or decomposition, and transformers re-splits on it.
  size_t start = 0;
  for (size_t i = 0; i <= w.size(); ++i) {
    if (i < w.size() && !is_bert_punctuation(w[i])) continue;
    if (i > start) split_on_space(std::u32string_view(w).substr(start, i - start), out);
    if (i < w.size()) out.emplace_back(1, w[i]);
    start = i + 1;
  }
}

}  // namespace hs::text
