#pragma once
// ${VAR} and ${VAR:-default} in config strings, so one config serves several machines
// (e.g. data_dir: ${GLUE_DIR}). Only this small shell subset: no nesting, no commands.
#include <functional>
#include <optional>
#include <string>

namespace hs::io {

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (getenv).
EnvLookup process_env();

struct Expanded {
  std::string text;
  std::string error;  // empty on success, otherwise the problem (without a location)
};

// Replaces ${NAME} with the variable's value and ${NAME:-fallback} with the value, or with
// `fallback` when the variable is unset or empty (as in the shell). "$${" stands for a literal
// "${". NAME is [A-Za-z_][A-Za-z0-9_]*; an unset variable without a fallback is an error.
Expanded expand_env(const std::string& text, const EnvLookup& lookup = process_env());

// The inverse for one literal string: "${" becomes "$${", so expand_env gives `text` back.
std::string escape_env(const std::string& text);

}  // namespace hs::io
