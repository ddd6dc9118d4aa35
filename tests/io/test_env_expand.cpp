#include <map>

#include <catch2/catch.hpp>

#include "io/env_expand.h"

using hs::io::expand_env;

namespace {

hs::io::EnvLookup fake_env() {
  static const std::map<std::string, std::string> vars = {{"HOME", "/home/ada"}, {"EMPTY", ""}};
  return [](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string ok(const std::string& text) {
  const auto e = expand_env(text, fake_env());
  CATCH_REQUIRE(e.error.empty());
  return e.text;
}

std::string error(const std::string& text) { return expand_env(text, fake_env()).error; }

}  // namespace

CATCH_TEST_CASE("expand_env replaces variables and applies defaults", "[io][env]") {
  CATCH_CHECK(ok("plain text") == "plain text");
  CATCH_CHECK(ok("${HOME}/glue") == "/home/ada/glue");
  CATCH_CHECK(ok("a${HOME}b${HOME}") == "a/home/adab/home/ada");
  CATCH_CHECK(ok("${MISSING:-/tmp/x}") == "/tmp/x");
  CATCH_CHECK(ok("${HOME:-/tmp/x}") == "/home/ada");
  CATCH_CHECK(ok("${MISSING:-}") == "");
  // As in the shell, ":-" also replaces a variable that is set but empty.
  CATCH_CHECK(ok("${EMPTY:-fallback}") == "fallback");
  CATCH_CHECK(ok("${EMPTY}") == "");
  CATCH_CHECK(ok("$${HOME}") == "${HOME}");
  CATCH_CHECK(ok("cost $5 and $HOME") == "cost $5 and $HOME");
}

CATCH_TEST_CASE("expand_env reports unset and malformed references", "[io][env]") {
  CATCH_CHECK(error("${MISSING}/x") ==
              "environment variable MISSING is not set (write ${MISSING:-default} to give a default)");
  CATCH_CHECK(error("${HOME") == "unterminated \"${\" (write $${ for a literal ${)");
  CATCH_CHECK(error("${1X}") ==
              "invalid variable reference \"${1X}\" (expected ${NAME} or ${NAME:-default}, NAME made "
              "of letters, digits and _)");
  CATCH_CHECK(error("${HOME-x}") != "");
}

CATCH_TEST_CASE("escape_env is undone by expand_env", "[io][env]") {
  for (const std::string s : {"", "${HOME}", "$${x}", "$$", "a$b${c}d$", "${"}) {
    CATCH_CAPTURE(s);
    CATCH_CHECK(ok(hs::io::escape_env(s)) == s);
  }
}
