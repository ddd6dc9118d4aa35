#pragma once
// Reads one YAML node as the value of one option: type, range, allowed values, ${VAR} expansion.
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "io/env_expand.h"
#include "io/options.h"

namespace hs::io {

// Sets `out` and returns "" when `node` is a valid value for `spec`; otherwise returns the problem,
// e.g. `expected an integer, got "abc"`.
std::string parse_option_value(const OptionSpec& spec, const YAML::Node& node, const EnvLookup& env,
                               Value& out);

// Checks a typed value against the spec's range, choices and extra rule; returns the problem or "".
std::string check_option_value(const OptionSpec& spec, const Value& v);

// `"text"` with quotes and control characters escaped, for messages.
std::string quoted(const std::string& text);

// Whether the value of a used_when key (a String or StringList option) is one of `values`; a list
// holds when any of its items does, so `strategy: [single-head, random]` uses random's options.
bool condition_holds(const Value& v, const std::vector<std::string>& values);
// A String or StringList value as messages show it: `random`, `[single-head, random]`.
std::string condition_text(const Value& v);

}  // namespace hs::io
