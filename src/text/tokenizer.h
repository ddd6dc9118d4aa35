#pragma once
// A BERT WordPiece tokenizer that reproduces Hugging Face's slow `BertTokenizer` token for token:
// special-token splitting, BasicTokenizer, WordpieceTokenizer, [CLS]/[SEP] framing and
// "longest_first" truncation.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "text/options.h"

namespace hs::text {

struct Encoding {
  std::vector<int32_t> input_ids;       // (T)
  std::vector<int32_t> token_type_ids;  // (T) 0 for [CLS] a [SEP], 1 for b [SEP]
};

class Tokenizer {
 public:
  // Reads <dir>/vocab.txt and <dir>/tokenizer_config.json (optional). Errors (hs::InputError) name
  // the file, and the line or key where there is one.
  static Tokenizer from_model_dir(const std::string& dir);

  // vocab[i] is the token with id i. Throws hs::InputError when a special token is missing.
  Tokenizer(std::vector<std::string> vocab, TokenizerOptions opts, SpecialTokens specials = {});

  // What `tokenizer.encode(text, add_special_tokens=False)` returns. Input is UTF-8; ill-formed
  // bytes are dropped like the U+FFFD they decode to.
  std::vector<int32_t> tokenize_ids(std::string_view utf8) const;
  // The same pieces as strings ("hello", "##s", "[UNK]").
  std::vector<std::string> tokenize(std::string_view utf8) const;

  // [CLS] a [SEP], and [CLS] a [SEP] b [SEP]. max_len <= 0 means no truncation; otherwise it must be
  // at least 3 (std::invalid_argument), and ids are dropped as transformers' longest_first does.
  Encoding encode(std::string_view a, int max_len) const;
  Encoding encode_pair(std::string_view a, std::string_view b, int max_len) const;

  int32_t cls_id() const;
  int32_t sep_id() const;
  int32_t pad_id() const;
  int32_t unk_id() const;
  // -1 when the vocabulary has no mask token.
  int32_t mask_id() const;
  size_t vocab_size() const;
  // Throws std::out_of_range for an id outside the vocabulary.
  const std::string& token(int32_t id) const;
  const TokenizerOptions& options() const;

 private:
  struct Impl;
  Tokenizer(std::vector<std::string> vocab, TokenizerOptions opts, SpecialTokens specials,
            const std::string& source);
  // Shared and immutable: copies are cheap and the vocabulary's lookup table never moves.
  std::shared_ptr<const Impl> impl_;
};

}  // namespace hs::text
