#pragma once
// tokenizer_config.json of a Hugging Face checkpoint: the options and special-token spellings.
#include <string>

#include "text/options.h"

namespace hs::text {

struct TokenizerConfig {
  TokenizerOptions options;
  SpecialTokens specials;
};

// A missing file gives the defaults (do_lower_case = true, as BertTokenizer's constructor has it).
// Malformed JSON, a key of the wrong type, or a setting this tokenizer cannot honour throws
// hs::InputError naming the file and the key or position.
TokenizerConfig read_tokenizer_config(const std::string& path);

}  // namespace hs::text
