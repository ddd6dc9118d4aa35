#include "masks/npy.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include <fmt/format.h>

#include "util/error.h"

namespace hs::masks {

namespace {

const char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
  bool has_descr = false, has_order = false, has_shape = false;
};

// Recursive descent over the header's dict literal: string keys; values that are strings, True,
// False, or tuples of integers. Anything else (a structured dtype's list) is refused by name.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  Header parse() {
    Header h;
    expect('{');
    skip_space();
    while (peek() != '}') {
      const std::string key = string_literal();
      expect(':');
      skip_space();
      if (key == "descr") {
        if (peek() != '\'' && peek() != '"')
          input_error("{}: structured dtypes (records of fields) are not supported; masks must be "
                      "bool, uint8 or another integer type", path_);
        h.descr = string_literal();
        h.has_descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = boolean();
        h.has_order = true;
      } else if (key == "shape") {
        h.shape = int_tuple();
        h.has_shape = true;
      } else {
        fail("unexpected key " + key);
      }
      skip_space();
      if (peek() == ',') ++pos_;
      skip_space();
    }
    ++pos_;
    if (!h.has_descr || !h.has_order || !h.has_shape)
      fail("the header needs descr, fortran_order and shape");
    return h;
  }

 private:
  char peek() {
    if (pos_ >= s_.size()) fail("the header ends early");
    return s_[pos_];
  }
  void skip_space() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) fail(fmt::format("expected '{}' at offset {}", c, pos_));
    ++pos_;
  }
  std::string string_literal() {
    skip_space();
    const char q = peek();
    if (q != '\'' && q != '"') fail(fmt::format("expected a quoted string at offset {}", pos_));
    const size_t end = s_.find(q, pos_ + 1);
    if (end == std::string::npos) fail("unterminated string");
    std::string out = s_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    return out;
  }
  bool boolean() {
    if (s_.compare(pos_, 4, "True") == 0) return pos_ += 4, true;
    if (s_.compare(pos_, 5, "False") == 0) return pos_ += 5, false;
    fail("fortran_order is neither True nor False");
  }
  std::vector<int64_t> int_tuple() {
    expect('(');
    std::vector<int64_t> out;
    for (;;) {
      skip_space();
      if (peek() == ')') break;
      const size_t start = pos_;
      int64_t v = 0;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
        if (v > (std::numeric_limits<int64_t>::max() - 9) / 10) fail("a dimension is too large");
        v = v * 10 + (s_[pos_++] - '0');
      }
      if (pos_ == start) fail(fmt::format("expected a dimension at offset {}", pos_));
      out.push_back(v);
      skip_space();
      if (peek() == ',') ++pos_;
    }
    ++pos_;
    return out;
  }
  [[noreturn]] void fail(const std::string& what) {
    std::string shown = s_;
    while (!shown.empty() && std::isspace(static_cast<unsigned char>(shown.back()))) shown.pop_back();
    input_error("{}: malformed .npy header: {} (header: {})", path_, what, shown);
  }

  const std::string& s_;
  const std::string& path_;
  size_t pos_ = 0;
};

uint64_t read_le(const unsigned char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = n; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

uint64_t read_be(const unsigned char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

bool host_little_endian() {
  const uint16_t one = 1;
  unsigned char b = 0;
  std::memcpy(&b, &one, 1);
  return b == 1;
}

}  // namespace

bool is_npy_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char buf[kMagicSize] = {};
  return in.read(buf, kMagicSize) && std::memcmp(buf, kMagic, kMagicSize) == 0;
}

NpyArray read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) input_error("{}: cannot read: {}", path, std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  const std::string bytes = buf.str();
  const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < kMagicSize + 2 || bytes.compare(0, kMagicSize, kMagic) != 0)
    input_error("{}: not a .npy file (no \\x93NUMPY magic)", path);
  const int major = u[kMagicSize];
  size_t header_len = 0, header_start = 0;
  if (major == 1) {
    if (bytes.size() < 10) input_error("{}: truncated .npy header", path);
    header_len = read_le(u + 8, 2);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) input_error("{}: truncated .npy header", path);
    header_len = read_le(u + 8, 4);
    header_start = 12;
  } else {
    input_error("{}: .npy format version {}.{} is not supported (1.0 to 3.0 are)", path, major,
                static_cast<int>(u[kMagicSize + 1]));
  }
  if (bytes.size() < header_start + header_len) input_error("{}: truncated .npy header", path);
  const std::string text = bytes.substr(header_start, header_len);
  const Header h = HeaderParser(text, path).parse();

  NpyArray out;
  out.descr = h.descr;
  out.shape = h.shape;
  const std::string& d = h.descr;
  const bool ok_order = d.size() >= 3 && (d[0] == '<' || d[0] == '>' || d[0] == '|' || d[0] == '=');
  const char kind = ok_order ? d[1] : '?';
  const std::string size_text = ok_order ? d.substr(2) : "";
  const size_t size = size_text == "1" ? 1 : size_text == "2" ? 2 : size_text == "4" ? 4 : size_text == "8" ? 8 : 0;
  if (!ok_order || size == 0 || !(kind == 'b' ? size == 1 : kind == 'i' || kind == 'u'))
    input_error("{}: dtype '{}' is not supported; masks must be bool, uint8 or another integer type", path, d);
  const bool big_endian = d[0] == '>' || (d[0] == '=' && !host_little_endian());

  int64_t count = 1;
  for (int64_t n : h.shape) {
    if (n != 0 && count > std::numeric_limits<int64_t>::max() / n / 8)
      input_error("{}: shape too large", path);
    count *= n;
  }
  const size_t data_start = header_start + header_len;
  const size_t need = static_cast<size_t>(count) * size;
  if (bytes.size() - data_start < need)
    input_error("{}: truncated: the shape needs {} bytes of data, the file has {}", path, need,
                bytes.size() - data_start);

  out.values.resize(static_cast<size_t>(count));
  // Element e of the file, in the file's own order.
  auto element = [&](int64_t e) -> int64_t {
    const unsigned char* p = u + data_start + static_cast<size_t>(e) * size;
    const uint64_t raw = big_endian ? read_be(p, size) : read_le(p, size);
    if (kind == 'i') {
      const int bits = static_cast<int>(8 * size);
      if (bits == 64) return static_cast<int64_t>(raw);
      const uint64_t sign = uint64_t{1} << (bits - 1);
      return (raw & sign) ? static_cast<int64_t>(raw) - (int64_t{1} << bits) : static_cast<int64_t>(raw);
    }
    return raw > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
               ? std::numeric_limits<int64_t>::max()
               : static_cast<int64_t>(raw);
  };
  if (!h.fortran_order || h.shape.size() < 2) {
    for (int64_t e = 0; e < count; ++e) out.values[e] = element(e);
  } else {
    // Fortran order: the first index varies fastest in the file.
    const size_t rank = h.shape.size();
    std::vector<int64_t> idx(rank, 0);
    for (int64_t c = 0; c < count; ++c) {
      int64_t f = 0;
      for (size_t a = rank; a-- > 0;) f = f * h.shape[a] + idx[a];
      out.values[c] = element(f);
      for (size_t a = rank; a-- > 0;) {  // next C-order index
        if (++idx[a] < h.shape[a]) break;
        idx[a] = 0;
      }
    }
  }
  return out;
}

}  // namespace hs::masks
