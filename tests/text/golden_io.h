#pragma once
// Readers for the tokenizer golden files and the GLUE TSVs they were made from.
#include <string>
#include <vector>

namespace hs::test {

// Whole file, gunzipped when it is gzip (zlib reads plain files through too). Fails the test if unreadable.
std::string read_gz(const std::string& path);
// Splits on sep only; "a\n" gives {"a", ""}.
std::vector<std::string> split(const std::string& s, char sep);
// Data rows of a GLUE TSV split on '\n' and '\t' only; a final empty line (trailing newline) and
// the header, when there is one, are dropped.
std::vector<std::vector<std::string>> read_glue_rows(const std::string& path, bool has_header);

}  // namespace hs::test
