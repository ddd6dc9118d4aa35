#include "data/tsv.h"

#include "text/unicode.h"
#include "util/error.h"
#include "util/paths.h"

namespace hs::data {

TsvReader::TsvReader(std::string path) : path_(std::move(path)) {
  regular_file_exists(path_);  // opening a pipe would block until something writes to it
  in_.open(path_, std::ios::binary);
  if (!in_) input_error("{}: cannot open for reading", path_);
}

bool TsvReader::next(std::vector<std::string>& fields) {
  if (!std::getline(in_, buf_)) {
    if (in_.bad()) input_error("{}:{}: read error", path_, line_ + 1);
    return false;
  }
  ++line_;
  if (!buf_.empty() && buf_.back() == '\r') buf_.pop_back();
  std::string_view view(buf_);
  if (line_ == 1 && view.substr(0, 3) == "\xEF\xBB\xBF") view.remove_prefix(3);
  // GLUE's files are UTF-8. A stray byte or a NUL would otherwise reach the tokenizer as text and
  // quietly change what is scored.
  if (const auto fault = text::find_text_fault(view)) {
    input_error("{}:{}:{}: {}", path_, line_, buf_.size() - view.size() + fault->offset + 1, text::describe(*fault));
  }
  fields = split_tabs(view);
  return true;
}

std::vector<std::string> split_tabs(std::string_view line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    if (tab == std::string_view::npos) {
      out.emplace_back(line.substr(start));
      return out;
    }
    out.emplace_back(line.substr(start, tab - start));
    start = tab + 1;
  }
}

}  // namespace hs::data
