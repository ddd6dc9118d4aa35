// Hand-worked cases on the real all-MiniLM-L6-v2 vocabulary, options, framing and error messages.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "temp_dir.h"
#include "test_env.h"
#include "text/tokenizer.h"
#include "text/tokenizer_config.h"
#include "text/vocab.h"
#include "util/error.h"

namespace fs = std::filesystem;
using hs::text::Tokenizer;
using hs::text::TokenizerOptions;
using Strings = std::vector<std::string>;
using Ids = std::vector<int32_t>;

using hs::test::TempDir;

namespace {

Tokenizer with_options(const std::string& model, TokenizerOptions opts) {
  return Tokenizer(hs::text::Vocab::read_file(model + "/vocab.txt"), opts);
}

}  // namespace

CATCH_TEST_CASE("the model's tokenizer: words, punctuation and word pieces", "[text]") {
  HS_REQUIRE_MODEL(model);
  const Tokenizer tok = Tokenizer::from_model_dir(model);
  CATCH_CHECK(tok.vocab_size() == 30522);
  CATCH_CHECK(tok.pad_id() == 0);
  CATCH_CHECK(tok.unk_id() == 100);
  CATCH_CHECK(tok.cls_id() == 101);
  CATCH_CHECK(tok.sep_id() == 102);
  CATCH_CHECK(tok.mask_id() == 103);
  CATCH_CHECK(tok.token(102) == "[SEP]");
  CATCH_CHECK(tok.options().do_lower_case);
  CATCH_CHECK_FALSE(tok.options().strip_accents.has_value());

  CATCH_CHECK(tok.tokenize("Hello, World!") == Strings{"hello", ",", "world", "!"});
  CATCH_CHECK(tok.tokenize_ids("Hello, World!") == Ids{7592, 1010, 2088, 999});
  // Greedy longest match first: "una" wins over "un" although un ##aff ##able reads better.
  CATCH_CHECK(tok.tokenize("unaffable") == Strings{"una", "##ffa", "##ble"});
  CATCH_CHECK(tok.tokenize("Tokenization") == Strings{"token", "##ization"});
  CATCH_CHECK(tok.tokenize("naïve CAFÉ") == Strings{"naive", "cafe"});
  CATCH_CHECK(tok.tokenize("a$b^c") == Strings{"a", "$", "b", "^", "c"});
  CATCH_CHECK(tok.tokenize("") == Strings{});
  CATCH_CHECK(tok.tokenize(" \t\n\u00A0") == Strings{});
  CATCH_CHECK(tok.tokenize("\u4E2D\u6587x") == Strings{"\u4E2D", "\u6587", "x"});

  // Literal special tokens stay whole (case-sensitively); anything else is split and lower-cased.
  CATCH_CHECK(tok.tokenize("a [SEP] b[MASK]") == Strings{"a", "[SEP]", "b", "[MASK]"});
  CATCH_CHECK(tok.tokenize("[cls]") == Strings{"[", "cl", "##s", "]"});
}

CATCH_TEST_CASE("a word longer than max_input_chars_per_word is one [UNK]", "[text]") {
  HS_REQUIRE_MODEL(model);
  const Tokenizer tok = Tokenizer::from_model_dir(model);
  std::string word;
  while (word.size() < 101) word += "supercalifragilistic";
  CATCH_CHECK(tok.tokenize(word.substr(0, 101)) == Strings{"[UNK]"});
  const Strings pieces = tok.tokenize(word.substr(0, 100));
  CATCH_CHECK(pieces.size() == 34);
  CATCH_CHECK(pieces.front() == "super");
  CATCH_CHECK(pieces.back() == "##tic");
  // The limit counts code points, not bytes: 100 two-byte letters are still one word.
  std::string u;
  for (int i = 0; i < 100; ++i) u += "\u00E9";
  CATCH_CHECK(tok.tokenize(u) != Strings{"[UNK]"});
  CATCH_CHECK(tok.tokenize(u + "\u00E9") == Strings{"[UNK]"});
}

CATCH_TEST_CASE("casing and accent options", "[text]") {
  HS_REQUIRE_MODEL(model);
  TokenizerOptions cased;
  cased.do_lower_case = false;
  CATCH_CHECK(with_options(model, cased).tokenize("Hello naïve") == Strings{"[UNK]", "[UNK]"});
  CATCH_CHECK(with_options(model, cased).tokenize("hello naive") == Strings{"hello", "naive"});

  TokenizerOptions cased_stripped = cased;
  cased_stripped.strip_accents = true;
  CATCH_CHECK(with_options(model, cased_stripped).tokenize("hello naïve") == Strings{"hello", "naive"});

  TokenizerOptions lower_keep_accents;
  lower_keep_accents.strip_accents = false;
  CATCH_CHECK(with_options(model, lower_keep_accents).tokenize("NAÏVE") == Strings{"[UNK]"});

  TokenizerOptions no_cjk;
  no_cjk.tokenize_chinese_chars = false;
  // Without the spacing the two ideographs are one word, and the vocabulary has a continuation piece.
  CATCH_CHECK(with_options(model, no_cjk).tokenize("\u4E2D\u6587") == Strings{"\u4E2D", "##\u6587"});
}

CATCH_TEST_CASE("encode frames with [CLS]/[SEP] and truncates longest first", "[text]") {
  HS_REQUIRE_MODEL(model);
  const Tokenizer tok = Tokenizer::from_model_dir(model);
  const hs::text::Encoding one = tok.encode("Hello, World!", 0);
  CATCH_CHECK(one.input_ids == Ids{101, 7592, 1010, 2088, 999, 102});
  CATCH_CHECK(one.token_type_ids == Ids{0, 0, 0, 0, 0, 0});
  CATCH_CHECK(tok.encode("Hello, World!", 4).input_ids == Ids{101, 7592, 1010, 102});
  CATCH_CHECK(tok.encode("Hello, World!", 6).input_ids == one.input_ids);
  CATCH_CHECK(tok.encode("", 8).input_ids == Ids{101, 102});

  const hs::text::Encoding pair = tok.encode_pair("Hello, World!", "hello", 0);
  CATCH_CHECK(pair.input_ids == Ids{101, 7592, 1010, 2088, 999, 102, 7592, 102});
  CATCH_CHECK(pair.token_type_ids == Ids{0, 0, 0, 0, 0, 0, 1, 1});
  // 4 + 1 word pieces, 3 to drop: a loses 3 to even up with b.
  CATCH_CHECK(tok.encode_pair("Hello, World!", "hello", 5).input_ids == Ids{101, 7592, 102, 7592, 102});
  // a and b both 2 long, 2 to drop: b first, then a.
  const hs::text::Encoding even = tok.encode_pair("hello world", "world hello", 5);
  CATCH_CHECK(even.input_ids == Ids{101, 7592, 102, 2088, 102});
  CATCH_CHECK(even.token_type_ids == Ids{0, 0, 0, 1, 1});

  CATCH_CHECK_THROWS_AS(tok.encode("x", 2), std::invalid_argument);
  CATCH_CHECK_THROWS_AS(tok.encode_pair("x", "y", 1), std::invalid_argument);
}

CATCH_TEST_CASE("copies share the vocabulary safely", "[text]") {
  HS_REQUIRE_MODEL(model);
  std::optional<Tokenizer> original = Tokenizer::from_model_dir(model);
  const Tokenizer copy = *original;
  original.reset();
  CATCH_CHECK(copy.tokenize("unaffable") == Strings{"una", "##ffa", "##ble"});
}

CATCH_TEST_CASE("tokenizer files: defaults, and errors that name the file", "[text]") {
  const std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n##s\n";

  CATCH_SECTION("no tokenizer_config.json means lower-casing BERT defaults") {
    TempDir dir("noconfig");
    dir.write("vocab.txt", vocab);
    const Tokenizer tok = Tokenizer::from_model_dir(dir.path());
    CATCH_CHECK(tok.options().do_lower_case);
    CATCH_CHECK(tok.tokenize("Hello Worlds x") == Strings{"hello", "world", "##s", "[UNK]"});
  }
  CATCH_SECTION("CRLF line ends and a missing final newline") {
    TempDir dir("crlf");
    dir.write("vocab.txt", "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\nhello");
    const Tokenizer tok = Tokenizer::from_model_dir(dir.path());
    CATCH_CHECK(tok.vocab_size() == 5);
    CATCH_CHECK(tok.tokenize_ids("hello") == Ids{4});
    CATCH_CHECK(tok.mask_id() == -1);
  }
  CATCH_SECTION("config settings and token spellings are read") {
    TempDir dir("config");
    dir.write("vocab.txt", vocab + "<unk>\nHello\n");
    dir.write("tokenizer_config.json",
              R"({"do_lower_case": false, "strip_accents": null, "unk_token": {"content": "<unk>", "lstrip": false}})");
    const Tokenizer tok = Tokenizer::from_model_dir(dir.path());
    CATCH_CHECK_FALSE(tok.options().do_lower_case);
    CATCH_CHECK(tok.unk_id() == 8);
    CATCH_CHECK(tok.tokenize("Hello hello Héllo") == Strings{"Hello", "hello", "<unk>"});
  }
  CATCH_SECTION("missing vocab.txt") {
    TempDir dir("novocab");
    const std::string path = dir.file("vocab.txt");
    CATCH_CHECK_THROWS_WITH(Tokenizer::from_model_dir(dir.path()), Catch::Contains(path));
    CATCH_CHECK_THROWS_AS(Tokenizer::from_model_dir(dir.path()), hs::InputError);
  }
  CATCH_SECTION("bytes in vocab.txt that are not text") {
    TempDir dir("badvocab");
    const std::string path = dir.file("vocab.txt");
    dir.write("vocab.txt", vocab + "caf\xC3\n");
    CATCH_CHECK_THROWS_WITH(Tokenizer::from_model_dir(dir.path()), path + ":9:4: invalid UTF-8 (byte 0xc3)");
    dir.write("vocab.txt", "[PAD]\r\n[UNK]\r\nab" + std::string(1, '\0') + "c\r\n");
    CATCH_CHECK_THROWS_WITH(Tokenizer::from_model_dir(dir.path()), path + ":3:3: NUL byte in a text file");
    CATCH_CHECK_THROWS_AS(Tokenizer::from_model_dir(dir.path()), hs::InputError);
  }
  CATCH_SECTION("malformed tokenizer_config.json") {
    TempDir dir("badjson");
    dir.write("vocab.txt", vocab);
    dir.write("tokenizer_config.json", "{\n  \"do_lower_case\": true,\n  oops\n}\n");
    const std::string path = dir.file("tokenizer_config.json");
    CATCH_CHECK_THROWS_WITH(Tokenizer::from_model_dir(dir.path()),
                            Catch::StartsWith(path) && Catch::Contains("line 3"));
  }
  CATCH_SECTION("a setting of the wrong type") {
    TempDir dir("badtype");
    dir.write("vocab.txt", vocab);
    dir.write("tokenizer_config.json", R"({"do_lower_case": "yes"})");
    CATCH_CHECK_THROWS_WITH(Tokenizer::from_model_dir(dir.path()),
                            Catch::Contains("tokenizer_config.json") && Catch::Contains("do_lower_case"));
  }
  CATCH_SECTION("a setting this tokenizer does not implement") {
    TempDir dir("unsupported");
    dir.write("vocab.txt", vocab);
    dir.write("tokenizer_config.json", R"({"do_basic_tokenize": false})");
    CATCH_CHECK_THROWS_WITH(Tokenizer::from_model_dir(dir.path()), Catch::Contains("do_basic_tokenize"));
  }
  CATCH_SECTION("a special token missing from the vocabulary") {
    TempDir dir("nocls");
    dir.write("vocab.txt", "[PAD]\n[UNK]\n[SEP]\nhello\n");
    const std::string path = dir.file("vocab.txt");
    CATCH_CHECK_THROWS_WITH(Tokenizer::from_model_dir(dir.path()),
                            Catch::StartsWith(path) && Catch::Contains("[CLS]"));
  }
}
