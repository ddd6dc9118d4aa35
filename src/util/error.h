#pragma once
// Errors that reach the user. InputError means the user's input is wrong (a file, a config key, a
// flag): the CLI prints its one-line message and exits with status 2. Anything else is a bug or an
// environment failure and exits with status 1.
#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace hs {

class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& what) : std::runtime_error(what) {}
};

// Throws InputError with an fmt-formatted message, e.g.
//   hs::input_error("{}:{}: expected 10 columns, found {}", path, line, n);
template <typename... Args>
[[noreturn]] void input_error(fmt::format_string<Args...> f, Args&&... args) {
  throw InputError(fmt::format(f, std::forward<Args>(args)...));
}

// The message as one printable line: control characters that input text may carry into it (a
// newline in a file name or a field, a NUL byte) written as C escapes, \n, \t, \0 or \xNN, so that
// an error stays one line that points at what the file holds.
inline std::string one_line(const std::string& message) {
  std::string out;
  out.reserve(message.size());
  for (const char ch : message) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != 0x7f) {
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == 0) {
      out += "\\0";
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out;
}

}  // namespace hs
