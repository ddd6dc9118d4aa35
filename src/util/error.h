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

}  // namespace hs
