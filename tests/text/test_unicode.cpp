// The Unicode predicates and mappings against what Python's unicodedata and str methods give.
#include <catch2/catch.hpp>

#include "text/basic_tokenizer.h"
#include "text/token_classes.h"
#include "text/unicode.h"

using namespace hs::text;
using namespace std::string_view_literals;

CATCH_TEST_CASE("UTF-8 round-trips and ill-formed bytes decode to U+FFFD", "[text]") {
  const std::string s = "a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x8D\x95";  // a é 中 🍕
  CATCH_CHECK(utf8_to_u32(s) == U"a\u00E9\u4E2D\U0001F355");
  CATCH_CHECK(u32_to_utf8(utf8_to_u32(s)) == s);
  CATCH_CHECK(utf8_to_u32("x\xFFy") == U"x\uFFFDy");
  CATCH_CHECK(utf8_to_u32("\xE4\xB8") == U"\uFFFD");
  CATCH_CHECK(utf8_to_u32("\xED\xA0\x80") != U"\xD800");  // encoded surrogates are not accepted
}

CATCH_TEST_CASE("find_text_fault: the first ill-formed or NUL byte", "[text]") {
  CATCH_CHECK_FALSE(find_text_fault("a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x8D\x95").has_value());
  CATCH_CHECK_FALSE(find_text_fault("").has_value());
  const auto stray = find_text_fault("ab\xFF\xC3\xA9");
  CATCH_REQUIRE(stray.has_value());
  CATCH_CHECK(stray->offset == 2);
  CATCH_CHECK(describe(*stray) == "invalid UTF-8 (byte 0xff)");
  const auto cut = find_text_fault("\xC3\xA9x\xE4\xB8");  // a 3-byte character cut short at the end
  CATCH_REQUIRE(cut.has_value());
  CATCH_CHECK(cut->offset == 3);
  CATCH_CHECK(cut->byte == 0xE4);
  const auto surrogate = find_text_fault("\xED\xA0\x80");
  CATCH_REQUIRE(surrogate.has_value());
  CATCH_CHECK(surrogate->offset == 0);
  const auto nul = find_text_fault("ok"sv "\0"sv "x"sv);
  CATCH_REQUIRE(nul.has_value());
  CATCH_CHECK(nul->offset == 2);
  CATCH_CHECK(nul->nul);
  CATCH_CHECK(describe(*nul) == "NUL byte in a text file");
}

CATCH_TEST_CASE("character classes follow transformers' helpers", "[text]") {
  // Non-alphanumeric ASCII counts as punctuation even where Unicode says symbol.
  for (char32_t c : U"!$+<=>^`|~#@-/:;?[]{}") {
    if (c != 0) CATCH_CHECK(is_bert_punctuation(c));
  }
  CATCH_CHECK(is_bert_punctuation(U'\u2019'));   // Pf
  CATCH_CHECK(is_bert_punctuation(U'\u3002'));   // ideographic full stop, Po
  CATCH_CHECK(is_bert_punctuation(U'\uFF01'));   // fullwidth !, Po
  CATCH_CHECK_FALSE(is_bert_punctuation(U'\u20AC'));  // €, Sc
  CATCH_CHECK_FALSE(is_bert_punctuation(U'\u00A9'));  // ©, So
  CATCH_CHECK_FALSE(is_bert_punctuation(U'a'));

  CATCH_CHECK(is_bert_whitespace(U'\t'));
  CATCH_CHECK(is_bert_whitespace(U'\u00A0'));
  CATCH_CHECK(is_bert_whitespace(U'\u2003'));
  CATCH_CHECK(is_bert_whitespace(U'\u3000'));
  CATCH_CHECK_FALSE(is_bert_whitespace(U'\u2028'));  // Zl
  CATCH_CHECK_FALSE(is_bert_whitespace(U'\x0b'));    // Cc

  CATCH_CHECK(is_bert_control(U'\x01'));
  CATCH_CHECK(is_bert_control(U'\x7f'));
  CATCH_CHECK(is_bert_control(U'\u200B'));  // Cf
  CATCH_CHECK(is_bert_control(U'\u00AD'));  // soft hyphen, Cf
  CATCH_CHECK(is_bert_control(U'\uFEFF'));  // BOM, Cf
  CATCH_CHECK(is_bert_control(U'\uE000'));  // private use, Co
  CATCH_CHECK(is_bert_control(U'\U000E0080'));  // unassigned, Cn
  CATCH_CHECK_FALSE(is_bert_control(U'\n'));
  CATCH_CHECK_FALSE(is_bert_control(U'\r'));

  CATCH_CHECK(is_python_space(U'\u2028'));
  CATCH_CHECK(is_python_space(U'\u2029'));
  CATCH_CHECK(is_python_space(U'\x1c'));
  CATCH_CHECK(is_python_space(U'\u0085'));
  CATCH_CHECK_FALSE(is_python_space(U'\u200B'));
  CATCH_CHECK_FALSE(is_python_space(U'\u180E'));

  CATCH_CHECK(is_cjk_ideograph(U'\u4E2D'));
  CATCH_CHECK(is_cjk_ideograph(U'\U00020000'));
  CATCH_CHECK_FALSE(is_cjk_ideograph(U'\u3042'));  // hiragana
  CATCH_CHECK_FALSE(is_cjk_ideograph(U'\uAC00'));  // hangul
}

CATCH_TEST_CASE("case mapping is Python's full str.lower", "[text]") {
  CATCH_CHECK(lower(U"\u039F\u0394\u039F\u03A3") == U"\u03BF\u03B4\u03BF\u03C2");  // ΟΔΟΣ -> οδος, final sigma
  CATCH_CHECK(lower(U"\u03A3") == U"\u03C3");                                    // a lone Σ is not final
  CATCH_CHECK(lower_each_char(U"\u039F\u0394\u039F\u03A3") == U"\u03BF\u03B4\u03BF\u03C3");
  CATCH_CHECK(lower(U"\u0130") == U"i\u0307");         // İ has a two code point lower case
  CATCH_CHECK(lower_each_char(U"\u0130") == U"i\u0307");
  CATCH_CHECK(lower(U"\u1E9E") == U"\u00DF");          // ẞ -> ß
  CATCH_CHECK(lower(U"\u212A") == U"k");               // Kelvin sign
  CATCH_CHECK(lower(U"HeLLo") == U"hello");
}

CATCH_TEST_CASE("normalisation: NFC, and accent stripping through NFD", "[text]") {
  CATCH_CHECK(nfc(U"e\u0301") == U"\u00E9");
  CATCH_CHECK(nfc(U"\u212B") == U"\u00C5");  // Ångström sign is a singleton decomposition
  CATCH_CHECK(strip_accents(U"caf\u00E9 na\u00EFve") == U"cafe naive");
  CATCH_CHECK(strip_accents(U"\u00C5") == U"A");
  CATCH_CHECK(strip_accents(U"\u0301") == U"");
  CATCH_CHECK(strip_accents(U"\uFB01") == U"\uFB01");  // ﬁ only has a compatibility decomposition
  CATCH_CHECK(strip_accents(U"\u0939\u093F\u0928\u094D") == U"\u0939\u093F\u0928");  // virama is Mn, vowel sign i is Mc
}

CATCH_TEST_CASE("cleaning drops controls and spaces out ideographs", "[text]") {
  CATCH_CHECK(clean_text(U"a\x00" U"b\uFFFDc\u200Bd\te\u00A0f"sv, false) == U"abcd e f");
  CATCH_CHECK(clean_text(U"\u4E2D\u6587x", true) == U" \u4E2D  \u6587 x");
  CATCH_CHECK(clean_text(U"\u4E2D\u6587x", false) == U"\u4E2D\u6587x");
}

CATCH_TEST_CASE("is_punctuation_token: Clark et al.'s periods and commas", "[text]") {
  using hs::text::is_punctuation_token;
  CATCH_CHECK(is_punctuation_token("."));
  CATCH_CHECK(is_punctuation_token(","));
  CATCH_CHECK_FALSE(is_punctuation_token("##."));  // glued to a word: not a boundary
  CATCH_CHECK_FALSE(is_punctuation_token("?"));
  CATCH_CHECK_FALSE(is_punctuation_token(".."));
  CATCH_CHECK_FALSE(is_punctuation_token("a."));
  CATCH_CHECK_FALSE(is_punctuation_token("[CLS]"));
  CATCH_CHECK_FALSE(is_punctuation_token(""));
}
