#include "text/tokenizer_config.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/paths.h"

namespace hs::text {
namespace {

using nlohmann::json;

bool get_bool(const json& j, const char* key, bool fallback, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) hs::input_error("{}: \"{}\" must be true or false, found {}", path, key, it->dump());
  return it->get<bool>();
}

// Special tokens are written either as a string or as a serialised AddedToken {"content": ...}.
void get_token(const json& j, const char* key, std::string& token, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  if (it->is_string()) {
    token = it->get<std::string>();
  } else if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
    token = (*it)["content"].get<std::string>();
  } else {
    hs::input_error("{}: \"{}\" must be a string or an object with \"content\", found {}", path, key, it->dump());
  }
}

}  // namespace

TokenizerConfig read_tokenizer_config(const std::string& path) {
  TokenizerConfig cfg;
  if (!regular_file_exists(path)) return cfg;
  std::ifstream in(path);
  if (!in) hs::input_error("{}: cannot open", path);
  json j;
  try {
    j = json::parse(in);
  } catch (const json::parse_error& e) {
    // e.what() carries the line and column.
    hs::input_error("{}: invalid JSON: {}", path, e.what());
  }
  if (!j.is_object()) hs::input_error("{}: expected a JSON object at the top level", path);

  TokenizerOptions& o = cfg.options;
  o.do_lower_case = get_bool(j, "do_lower_case", o.do_lower_case, path);
  o.tokenize_chinese_chars = get_bool(j, "tokenize_chinese_chars", o.tokenize_chinese_chars, path);
  if (auto it = j.find("strip_accents"); it != j.end() && !it->is_null()) o.strip_accents = get_bool(j, "strip_accents", false, path);
  if (auto it = j.find("max_input_chars_per_word"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 1'000'000)
      hs::input_error("{}: \"max_input_chars_per_word\" must be a non-negative integer, found {}", path, it->dump());
    o.max_input_chars_per_word = it->get<int>();
  }
  // Settings that would change the output but that this tokenizer does not implement: refuse them
  // rather than silently tokenizing differently from transformers.
  if (!get_bool(j, "do_basic_tokenize", true, path))
    hs::input_error("{}: \"do_basic_tokenize\": false is not supported", path);
  if (!get_bool(j, "do_split_on_punc", true, path))
    hs::input_error("{}: \"do_split_on_punc\": false is not supported", path);
  if (auto it = j.find("never_split"); it != j.end() && !it->is_null() && !(it->is_array() && it->empty()))
    hs::input_error("{}: \"never_split\" is not supported (found {})", path, it->dump());

  SpecialTokens& s = cfg.specials;
  get_token(j, "cls_token", s.cls, path);
  get_token(j, "sep_token", s.sep, path);
  get_token(j, "pad_token", s.pad, path);
  get_token(j, "unk_token", s.unk, path);
  get_token(j, "mask_token", s.mask, path);
  return cfg;
}

}  // namespace hs::text
