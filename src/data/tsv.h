#pragma once
// GLUE's TSV dialect: lines end at '\n' (a trailing '\r' is dropped, the last line may lack its
// '\n'), fields are split on '\t' only, and '"' is an ordinary character, because STS-B, RTE
// and MRPC contain unbalanced quotes that a CSV reader would merge across rows.
#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace hs::data {

class TsvReader {
 public:
  // Throws InputError when the file cannot be opened.
  explicit TsvReader(std::string path);

  // Reads the next line into `fields`; false at end of file. A UTF-8 BOM on the first line is
  // dropped, so MRPC's header reads like any other.
  bool next(std::vector<std::string>& fields);
  // 1-based number of the line last returned.
  int64_t line() const { return line_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ifstream in_;
  std::string buf_;
  int64_t line_ = 0;
};

// Splits on every '\t'; an empty line gives one empty field.
std::vector<std::string> split_tabs(std::string_view line);

}  // namespace hs::data
