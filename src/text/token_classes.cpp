#include "text/token_classes.h"

namespace hs::text {

bool is_punctuation_token(const std::string& token) { return token == "." || token == ","; }

std::vector<uint8_t> punctuation_token_table(const Tokenizer& tokenizer) {
  std::vector<uint8_t> out(tokenizer.vocab_size());
  for (size_t id = 0; id < out.size(); ++id) out[id] = is_punctuation_token(tokenizer.token(static_cast<int32_t>(id)));
  return out;
}

}  // namespace hs::text
