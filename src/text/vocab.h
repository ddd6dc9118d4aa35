#pragma once
// The WordPiece vocabulary: id -> token and a hash lookup token -> id.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace hs::text {

class Vocab {
 public:
  // Line i of vocab.txt is token i. Lines end at \n, \r\n or \r (Python's universal newlines, which is
  // how transformers reads the file); a token spelled twice maps to its last line, as in load_vocab.
  static std::vector<std::string> read_file(const std::string& path);

  explicit Vocab(std::vector<std::string> tokens);
  // The map holds views into tokens_, so a Vocab stays where it was built.
  Vocab(const Vocab&) = delete;
  Vocab& operator=(const Vocab&) = delete;

  std::optional<int32_t> find(std::string_view token) const {
    auto it = index_.find(token);
    if (it == index_.end()) return std::nullopt;
    return it->second;
  }
  size_t size() const { return tokens_.size(); }
  const std::string& token(int32_t id) const;
  // Longest token in bytes: WordPiece never needs to look up anything longer.
  size_t max_token_bytes() const { return max_token_bytes_; }

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string_view, int32_t> index_;
  size_t max_token_bytes_ = 0;
};

}  // namespace hs::text
