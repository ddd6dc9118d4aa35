#include "text/token_classes.h"

#include <algorithm>

#include "text/unicode.h"

namespace hs::text {

bool is_punctuation_token(const std::string& token) {
  const std::string body = token.rfind("##", 0) == 0 ? token.substr(2) : token;
  const std::u32string chars = utf8_to_u32(body);
  return !chars.empty() && std::all_of(chars.begin(), chars.end(), is_bert_punctuation);
}

std::vector<uint8_t> punctuation_token_table(const Tokenizer& tokenizer) {
  std::vector<uint8_t> out(tokenizer.vocab_size());
  for (size_t id = 0; id < out.size(); ++id) out[id] = is_punctuation_token(tokenizer.token(static_cast<int32_t>(id)));
  return out;
}

}  // namespace hs::text
