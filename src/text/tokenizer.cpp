#include "text/tokenizer.h"

#include <stdexcept>

#include "text/basic_tokenizer.h"
#include "text/tokenizer_config.h"
#include "text/truncation.h"
#include "text/unicode.h"
#include "text/vocab.h"
#include "text/wordpiece.h"
#include "util/error.h"
#include "util/paths.h"

namespace hs::text {
namespace {

int32_t required_id(const Vocab& vocab, const std::string& token, const char* role, const std::string& source) {
  auto id = vocab.find(token);
  if (!id) hs::input_error("{}: {} \"{}\" is not in the vocabulary", source, role, token);
  return *id;
}

}  // namespace

struct Tokenizer::Impl {
  Impl(std::vector<std::string> tokens, TokenizerOptions o, const SpecialTokens& s, const std::string& source)
      : vocab(std::move(tokens)),
        opts(o),
        cls(required_id(vocab, s.cls, "cls_token", source)),
        sep(required_id(vocab, s.sep, "sep_token", source)),
        pad(required_id(vocab, s.pad, "pad_token", source)),
        unk(required_id(vocab, s.unk, "unk_token", source)),
        mask(vocab.find(s.mask).value_or(-1)),
        basic(o, special_spellings(s, mask >= 0)),
        wordpiece(vocab, unk, o.max_input_chars_per_word) {
    for (const std::u32string& t : special_spellings(s, mask >= 0)) {
      special_text.push_back(t);
      special_ids.push_back(*vocab.find(u32_to_utf8(t)));
    }
  }

  static std::vector<std::u32string> special_spellings(const SpecialTokens& s, bool with_mask) {
    std::vector<std::u32string> out;
    for (const std::string* t : {&s.unk, &s.sep, &s.pad, &s.cls, &s.mask}) {
      if (t == &s.mask && !with_mask) continue;
      if (!t->empty()) out.push_back(utf8_to_u32(*t));
    }
    return out;
  }

  // Index into special_text of the longest special token starting at text[pos], or -1.
  int special_at(std::u32string_view text, size_t pos) const {
    int best = -1;
    for (size_t k = 0; k < special_text.size(); ++k) {
      const std::u32string& t = special_text[k];
      if (text.substr(pos, t.size()) == t && (best < 0 || t.size() > special_text[best].size())) best = static_cast<int>(k);
    }
    return best;
  }

  void tokenize_segment(std::u32string_view segment, std::vector<int32_t>& out) const {
    if (segment.empty()) return;
    // The slow tokenizer lower-cases everything but special tokens one code point at a time before
    // BasicTokenizer runs, which is why a final capital sigma ends up as σ, not ς.
    const std::u32string text = opts.do_lower_case ? lower_each_char(segment) : std::u32string(segment);
    for (const std::u32string& word : basic.tokenize(text)) wordpiece.tokenize(word, out);
  }

  std::vector<int32_t> tokenize(std::string_view utf8) const {
    const std::u32string text = utf8_to_u32(utf8);
    std::vector<int32_t> out;
    out.reserve(text.size() / 3 + 4);
    // Special tokens written in the text are kept whole, as transformers' added-token trie does.
    size_t start = 0;
    for (size_t i = 0; i < text.size();) {
      const int k = special_at(text, i);
      if (k < 0) {
        ++i;
        continue;
      }
      tokenize_segment(std::u32string_view(text).substr(start, i - start), out);
      out.push_back(special_ids[k]);
      i += special_text[k].size();
      start = i;
    }
    tokenize_segment(std::u32string_view(text).substr(start), out);
    return out;
  }

  Vocab vocab;
  TokenizerOptions opts;
  int32_t cls, sep, pad, unk, mask;
  BasicTokenizer basic;
  WordPiece wordpiece;
  std::vector<std::u32string> special_text;
  std::vector<int32_t> special_ids;
};

Tokenizer Tokenizer::from_model_dir(const std::string& dir) {
  const std::string vocab_path = dir + "/vocab.txt";
  (void)regular_file_exists(vocab_path);  // a pipe or a symlink loop is refused here, a missing file by read_file
  const TokenizerConfig cfg = read_tokenizer_config(dir + "/tokenizer_config.json");
  return Tokenizer(Vocab::read_file(vocab_path), cfg.options, cfg.specials, vocab_path);
}

Tokenizer::Tokenizer(std::vector<std::string> vocab, TokenizerOptions opts, SpecialTokens specials)
    : Tokenizer(std::move(vocab), opts, std::move(specials), "vocabulary") {}

Tokenizer::Tokenizer(std::vector<std::string> vocab, TokenizerOptions opts, SpecialTokens specials,
                     const std::string& source)
    : impl_(std::make_shared<const Impl>(std::move(vocab), opts, specials, source)) {}

std::vector<int32_t> Tokenizer::tokenize_ids(std::string_view utf8) const { return impl_->tokenize(utf8); }

std::vector<std::string> Tokenizer::tokenize(std::string_view utf8) const {
  std::vector<std::string> out;
  for (int32_t id : impl_->tokenize(utf8)) out.push_back(impl_->vocab.token(id));
  return out;
}

namespace {

void check_max_len(int max_len) {
  if (max_len > 0 && max_len < 3)
    throw std::invalid_argument("max_len must be at least 3 (or <= 0 for no truncation), got " + std::to_string(max_len));
}

}  // namespace

Encoding Tokenizer::encode(std::string_view a, int max_len) const {
  check_max_len(max_len);
  std::vector<int32_t> ids = impl_->tokenize(a);
  const size_t total = ids.size() + 2;
  if (max_len > 0 && total > static_cast<size_t>(max_len)) truncate_longest_first(ids, nullptr, total - max_len);
  Encoding e;
  e.input_ids.reserve(ids.size() + 2);
  e.input_ids.push_back(impl_->cls);
  e.input_ids.insert(e.input_ids.end(), ids.begin(), ids.end());
  e.input_ids.push_back(impl_->sep);
  e.token_type_ids.assign(e.input_ids.size(), 0);
  return e;
}

Encoding Tokenizer::encode_pair(std::string_view a, std::string_view b, int max_len) const {
  check_max_len(max_len);
  std::vector<int32_t> ids_a = impl_->tokenize(a);
  std::vector<int32_t> ids_b = impl_->tokenize(b);
  const size_t total = ids_a.size() + ids_b.size() + 3;
  if (max_len > 0 && total > static_cast<size_t>(max_len)) truncate_longest_first(ids_a, &ids_b, total - max_len);
  Encoding e;
  e.input_ids.reserve(ids_a.size() + ids_b.size() + 3);
  e.input_ids.push_back(impl_->cls);
  e.input_ids.insert(e.input_ids.end(), ids_a.begin(), ids_a.end());
  e.input_ids.push_back(impl_->sep);
  e.token_type_ids.assign(e.input_ids.size(), 0);
  e.input_ids.insert(e.input_ids.end(), ids_b.begin(), ids_b.end());
  e.input_ids.push_back(impl_->sep);
  e.token_type_ids.resize(e.input_ids.size(), 1);
  return e;
}

int32_t Tokenizer::cls_id() const { return impl_->cls; }
int32_t Tokenizer::sep_id() const { return impl_->sep; }
int32_t Tokenizer::pad_id() const { return impl_->pad; }
int32_t Tokenizer::unk_id() const { return impl_->unk; }
int32_t Tokenizer::mask_id() const { return impl_->mask; }
size_t Tokenizer::vocab_size() const { return impl_->vocab.size(); }
const std::string& Tokenizer::token(int32_t id) const { return impl_->vocab.token(id); }
const TokenizerOptions& Tokenizer::options() const { return impl_->opts; }

}  // namespace hs::text
