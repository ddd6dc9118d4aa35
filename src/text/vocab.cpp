#include "text/vocab.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "text/unicode.h"
#include "util/error.h"

namespace hs::text {

std::vector<std::string> Vocab::read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) hs::input_error("{}: cannot open vocabulary file", path);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) hs::input_error("{}: read error", path);

  std::vector<std::string> tokens;
  size_t start = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] != '\n' && data[i] != '\r') continue;
    tokens.emplace_back(data, start, i - start);
    if (data[i] == '\r' && i + 1 < data.size() && data[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < data.size()) tokens.emplace_back(data, start, data.size() - start);
  if (tokens.empty()) hs::input_error("{}: vocabulary file is empty", path);
  // A token with bytes that are not text could never match the tokenizer's output, and shifts no
  // ids, so it would pass unnoticed: refuse the file instead.
  for (size_t t = 0; t < tokens.size(); ++t) {
    if (const auto fault = find_text_fault(tokens[t]))
      hs::input_error("{}:{}:{}: {}", path, t + 1, fault->offset + 1, describe(*fault));
  }
  return tokens;
}

Vocab::Vocab(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {
  index_.reserve(tokens_.size());
  for (size_t i = 0; i < tokens_.size(); ++i) {
    index_[tokens_[i]] = static_cast<int32_t>(i);
    max_token_bytes_ = std::max(max_token_bytes_, tokens_[i].size());
  }
}

const std::string& Vocab::token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= tokens_.size())
    throw std::out_of_range("token id " + std::to_string(id) + " outside vocabulary of " +
                            std::to_string(tokens_.size()));
  return tokens_[static_cast<size_t>(id)];
}

}  // namespace hs::text
