#include "io/env_expand.h"

#include <cstdlib>

namespace hs::io {

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

static bool valid_name(const std::string& s) {
  if (s.empty()) return false;
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!alpha(s[0])) return false;
  for (char c : s)
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  return true;
}

Expanded expand_env(const std::string& text, const EnvLookup& lookup) {
  Expanded out;
  size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "$${") == 0) {
      out.text += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      out.text += text[i++];
      continue;
    }
    const size_t close = text.find('}', i + 2);
    if (close == std::string::npos) {
      out.error = "unterminated \"${\" (write $${ for a literal ${)";
      return out;
    }
    const std::string body = text.substr(i + 2, close - i - 2);
    const size_t sep = body.find(":-");
    const std::string name = body.substr(0, sep);
    if (!valid_name(name)) {
      out.error = "invalid variable reference \"${" + body +
                  "}\" (expected ${NAME} or ${NAME:-default}, NAME made of letters, digits and _)";
      return out;
    }
    const std::optional<std::string> value = lookup(name);
    if (sep != std::string::npos && (!value || value->empty())) {
      out.text += body.substr(sep + 2);
    } else if (value) {
      out.text += *value;
    } else {
      out.error = "environment variable " + name + " is not set (write ${" + name +
                  ":-default} to give a default)";
      return out;
    }
    i = close + 1;
  }
  return out;
}

std::string escape_env(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 2, "${") == 0) out += '$';
    out += text[i];
  }
  return out;
}

}  // namespace hs::io
