#pragma once
// Settings of a BERT tokenizer, as tokenizer_config.json states them.
#include <optional>
#include <string>

namespace hs::text {

struct TokenizerOptions {
  bool do_lower_case = true;
  // nullopt follows do_lower_case, as transformers does for `strip_accents: null`.
  std::optional<bool> strip_accents;
  bool tokenize_chinese_chars = true;
  // A word longer than this many code points becomes [UNK] whole.
  int max_input_chars_per_word = 100;

  bool strips_accents() const { return strip_accents.value_or(do_lower_case); }
};

// Spellings of the special tokens; each must be in the vocabulary (mask may be absent).
struct SpecialTokens {
  std::string cls = "[CLS]";
  std::string sep = "[SEP]";
  std::string pad = "[PAD]";
  std::string unk = "[UNK]";
  std::string mask = "[MASK]";
};

}  // namespace hs::text
