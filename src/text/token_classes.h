#pragma once
// Classes of vocabulary tokens that analyses ask about.
#include <cstdint>
#include <string>
#include <vector>

#include "text/tokenizer.h"

namespace hs::text {

// Punctuation: non-empty, and every character (after a "##" continuation prefix) is punctuation as
// BERT's tokenizer splits it (unicode.h). Special tokens such as [CLS] are not.
bool is_punctuation_token(const std::string& token);

// is_punctuation_token for every id of the tokenizer's vocabulary: (V) of 0/1.
std::vector<uint8_t> punctuation_token_table(const Tokenizer& tokenizer);

}  // namespace hs::text
