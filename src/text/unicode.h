#pragma once
// The Unicode rules of Hugging Face's slow BertTokenizer, answered by ICU. Each predicate mirrors one
// helper of transformers' tokenization_bert.py; text is handled as UTF-32 code points.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hs::text {

// UTF-8 -> code points. Ill-formed bytes become U+FFFD, which cleaning then drops, so broken input
// degrades to "those bytes are ignored" instead of an exception in the middle of a data set.
std::u32string utf8_to_u32(std::string_view utf8);
std::string u32_to_utf8(std::u32string_view text);

// The first byte of `bytes` that makes it unfit as text: not well-formed UTF-8, or NUL. Readers of
// data and vocabulary files refuse such files, naming the position, rather than let the bytes
// quietly change what is tokenized.
struct TextFault {
  size_t offset;  // of the offending byte
  uint8_t byte;
  bool nul;       // a NUL byte (else ill-formed UTF-8)
};
std::optional<TextFault> find_text_fault(std::string_view bytes);
// "invalid UTF-8 (byte 0xff)" or "NUL byte in a text file", for FILE:LINE:COL messages.
std::string describe(const TextFault& fault);

// `_is_whitespace`: \t \n \r, ' ' and category Zs.
bool is_bert_whitespace(char32_t c);
// `_is_control`: any category C* (Cc, Cf, Cn, Co, Cs) except \t \n \r, which count as whitespace.
bool is_bert_control(char32_t c);
// `_is_punctuation`: all non-alphanumeric ASCII (so $ ^ ` + < = > | ~ split too) or category P*.
bool is_bert_punctuation(char32_t c);
// `_is_chinese_char`: the CJK Unified Ideographs blocks BERT separates with spaces.
bool is_cjk_ideograph(char32_t c);
// What Python's str.split() splits on: bidi class WS, B or S, or category Zs.
bool is_python_space(char32_t c);

// Python's str.lower() applied to each code point on its own (full case mapping, no context, so a
// capital sigma always becomes σ). This is what the slow tokenizer does to the whole input before
// anything else when do_lower_case is set.
std::u32string lower_each_char(std::u32string_view text);
// Python's str.lower() on a whole string: full case mapping with final-sigma context (ICU root locale).
std::u32string lower(std::u32string_view text);
// unicodedata.normalize("NFC", text).
std::u32string nfc(std::u32string_view text);
// `_run_strip_accents`: NFD, then drop every nonspacing mark (Mn).
std::u32string strip_accents(std::u32string_view text);

}  // namespace hs::text
