#pragma once
// Turns YAML text plus --set overrides into one checked value per option of a table. Knows nothing
// about the Plan: io/plan.cpp stores the values, and tests can drive it with their own tables.
#include <string>
#include <vector>

#include "io/env_expand.h"
#include "io/options.h"

namespace hs::io {

enum class OptionOrigin { Default, File, Override };

struct ResolvedOption {
  const OptionSpec* spec = nullptr;
  Value value;         // meaningless when the option is unused (see `used`)
  std::string where;   // "FILE:LINE:COL", "--set KEY=VALUE" or "FILE:1:1" for defaults
  OptionOrigin origin = OptionOrigin::Default;
  bool used = true;    // false when the option's used_when condition does not hold
};

// One entry per table row, in table order. Throws hs::InputError "WHERE: KEY: message" for YAML
// syntax errors, unknown sections or options, duplicate keys, wrong types, values out of range or
// not allowed, unset environment variables, missing required options, and options set although
// their used_when condition does not hold.
std::vector<ResolvedOption> resolve_options(const std::vector<OptionSpec>& table,
                                            const std::string& yaml_text,
                                            const std::string& display_name,
                                            const std::vector<std::string>& overrides,
                                            const EnvLookup& env = process_env());

// The resolved entry for "section.name"; throws std::logic_error when the table has none.
const ResolvedOption& find_resolved(const std::vector<ResolvedOption>& resolved,
                                    const std::string& key);

}  // namespace hs::io
