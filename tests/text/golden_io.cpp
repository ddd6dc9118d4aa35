#include "golden_io.h"

#include <zlib.h>

#include <catch2/catch.hpp>

namespace hs::test {

std::string read_gz(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) CATCH_FAIL("cannot open " << path);
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  const bool failed = n < 0;
  gzclose(f);
  if (failed) CATCH_FAIL("cannot decompress " << path);
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.emplace_back(s, start, i - start);
      start = i + 1;
    }
  }
  return out;
}

std::vector<std::vector<std::string>> read_glue_rows(const std::string& path, bool has_header) {
  std::vector<std::string> lines = split(read_gz(path), '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  std::vector<std::vector<std::string>> rows;
  for (size_t i = has_header ? 1 : 0; i < lines.size(); ++i) rows.push_back(split(lines[i], '\t'));
  return rows;
}

}  // namespace hs::test
