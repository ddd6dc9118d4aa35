#pragma once
// Classes of vocabulary tokens that analyses ask about.
#include <cstdint>
#include <string>
#include <vector>

#include "text/tokenizer.h"

namespace hs::text {

// Punctuation as Clark et al. 2019 ("What does BERT look at?") count it for attention: the tokens
// "." and ",", the sentence and clause boundaries that their heads attend to. Special tokens such as
// [CLS] are not punctuation, nor are other punctuation marks.
bool is_punctuation_token(const std::string& token);

// is_punctuation_token for every id of the tokenizer's vocabulary: (V) of 0/1.
std::vector<uint8_t> punctuation_token_table(const Tokenizer& tokenizer);

}  // namespace hs::text
