#include "text/unicode.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

namespace hs::text {
namespace {

bool is_ascii(std::u32string_view text) {
  return std::all_of(text.begin(), text.end(), [](char32_t c) { return c < 0x80; });
}

icu::UnicodeString to_icu(std::u32string_view text) {
  return icu::UnicodeString::fromUTF32(reinterpret_cast<const UChar32*>(text.data()),
                                       static_cast<int32_t>(text.size()));
}

std::u32string from_icu(const icu::UnicodeString& s) {
  std::u32string out;
  out.reserve(static_cast<size_t>(s.length()));
  for (int32_t i = 0; i < s.length(); i = s.moveIndex32(i, 1)) out.push_back(static_cast<char32_t>(s.char32At(i)));
  return out;
}

const icu::Normalizer2& normalizer(bool compose) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n =
      compose ? icu::Normalizer2::getNFCInstance(status) : icu::Normalizer2::getNFDInstance(status);
  // Only fails when ICU's data library is missing, which is an installation fault, not bad input.
  if (U_FAILURE(status)) throw std::runtime_error(std::string("ICU normalizer unavailable: ") + u_errorName(status));
  return *n;
}

std::u32string normalize(std::u32string_view text, bool compose) {
  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString out = normalizer(compose).normalize(to_icu(text), status);
  if (U_FAILURE(status)) throw std::runtime_error(std::string("ICU normalization failed: ") + u_errorName(status));
  return from_icu(out);
}

char32_t ascii_lower(char32_t c) { return (c >= U'A' && c <= U'Z') ? c + 32 : c; }

}  // namespace

std::u32string utf8_to_u32(std::string_view utf8) {
  std::u32string out;
  out.reserve(utf8.size());
  const auto* s = reinterpret_cast<const uint8_t*>(utf8.data());
  const auto n = static_cast<int32_t>(utf8.size());
  int32_t i = 0;
  while (i < n) {
    if (s[i] < 0x80) {
      out.push_back(s[i++]);
      continue;
    }
    UChar32 c;
    U8_NEXT(s, i, n, c);
    out.push_back(c < 0 ? U'\uFFFD' : static_cast<char32_t>(c));
  }
  return out;
}

std::optional<TextFault> find_text_fault(std::string_view bytes) {
  const auto* s = reinterpret_cast<const uint8_t*>(bytes.data());
  // U8_NEXT counts in int32_t; files are checked in pieces (lines) far below 2 GiB.
  const auto n = static_cast<int32_t>(bytes.size());
  for (int32_t i = 0; i < n;) {
    const int32_t at = i;
    UChar32 c = 0;
    U8_NEXT(s, i, n, c);
    if (c <= 0) return TextFault{static_cast<size_t>(at), s[at], c == 0};
  }
  return std::nullopt;
}

std::string describe(const TextFault& fault) {
  return fault.nul ? "NUL byte in a text file" : fmt::format("invalid UTF-8 (byte 0x{:02x})", fault.byte);
}

std::string u32_to_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      continue;
    }
    uint8_t buf[U8_MAX_LENGTH];
    int32_t len = 0;
    UBool error = false;
    U8_APPEND(buf, len, U8_MAX_LENGTH, static_cast<UChar32>(c), error);
    if (error) {
      len = 0;
      U8_APPEND_UNSAFE(buf, len, 0xFFFD);
    }
    out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(len));
  }
  return out;
}

bool is_bert_whitespace(char32_t c) {
  if (c == U' ' || c == U'\t' || c == U'\n' || c == U'\r') return true;
  return c >= 0x80 && u_charType(static_cast<UChar32>(c)) == U_SPACE_SEPARATOR;
}

bool is_bert_control(char32_t c) {
  if (c == U'\t' || c == U'\n' || c == U'\r') return false;
  return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_C_MASK) != 0;
}

bool is_bert_punctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  return c >= 0x80 && (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_P_MASK) != 0;
}

bool is_cjk_ideograph(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool is_python_space(char32_t c) {
  if (c < 0x80) return c == U' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
  const auto cp = static_cast<UChar32>(c);
  if (u_charType(cp) == U_SPACE_SEPARATOR) return true;
  const UCharDirection d = u_charDirection(cp);
  return d == U_WHITE_SPACE_NEUTRAL || d == U_BLOCK_SEPARATOR || d == U_SEGMENT_SEPARATOR;
}

std::u32string lower_each_char(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (char32_t c : text) {
    if (c < 0x80) {
      out.push_back(ascii_lower(c));
      continue;
    }
    icu::UnicodeString one(static_cast<UChar32>(c));
    out += from_icu(one.toLower(icu::Locale::getRoot()));
  }
  return out;
}

std::u32string lower(std::u32string_view text) {
  if (is_ascii(text)) {
    std::u32string out(text);
    for (char32_t& c : out) c = ascii_lower(c);
    return out;
  }
  icu::UnicodeString s = to_icu(text);
  return from_icu(s.toLower(icu::Locale::getRoot()));
}

std::u32string nfc(std::u32string_view text) {
  if (is_ascii(text)) return std::u32string(text);
  return normalize(text, true);
}

std::u32string strip_accents(std::u32string_view text) {
  if (is_ascii(text)) return std::u32string(text);
  std::u32string out = normalize(text, false);
  out.erase(std::remove_if(out.begin(), out.end(),
                           [](char32_t c) { return u_charType(static_cast<UChar32>(c)) == U_NON_SPACING_MARK; }),
            out.end());
  return out;
}

}  // namespace hs::text
