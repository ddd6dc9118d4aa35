#pragma once
// The option table: every config option is declared once, with its type, default, allowed values
// and help text (the Marian way). Parsing (io/option_resolver.h), the plan structs, --dump-config
// and docs/config.md are all driven by it.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "io/plan.h"

namespace hs::io {

enum class OptionType { String, Int, Float, Bool, FloatList, StringList };

// One option value. Ints are int64 whatever the struct field is; the table's range keeps them in
// the field's bounds. The alternatives are in OptionType order. A StringList is written as one
// scalar or as a YAML list; it is never empty and never repeats an item.
using Value =
    std::variant<std::string, int64_t, double, bool, std::vector<double>, std::vector<std::string>>;

// "a.key is used only when b.key is one of values"; when b.key is a StringList, when any of its
// items is.
struct OptionCondition {
  std::string key;
  std::vector<std::string> values;
};

struct OptionSpec {
  std::string section;  // "task"
  std::string name;     // "max_seq_len"
  OptionType type = OptionType::String;
  bool required = false;
  std::optional<Value> default_value;  // absent for required options
  std::string help;
  std::vector<std::string> choices;  // String, StringList items: the allowed values, if restricted
  std::optional<double> min, max;    // Int, Float, FloatList elements: as documented
  std::optional<double> field_min, field_max;  // the struct field's own bounds (e.g. int)
  std::string allowed_doc;  // the "Allowed" docs cell when `check` replaces `choices`
  // Extra rule on a value that already has the right type; returns the problem or "".
  std::function<std::string(const Value&)> check;
  std::optional<OptionCondition> used_when;
  // How the value reaches the plan; empty in tables used only for parsing.
  std::function<void(Plan&, const Value&)> store;
  std::function<Value(const Plan&)> load;

  std::string key() const { return section + "." + name; }
};

struct SectionSpec {
  std::string name;
  std::string help;
};

// The config sections in file order, and every option in section order.
const std::vector<SectionSpec>& plan_sections();
const std::vector<OptionSpec>& plan_options();

// The docs tables (one per section) for docs/config.md, generated from the table.
std::string options_markdown();
std::string options_markdown(const std::vector<SectionSpec>& sections,
                             const std::vector<OptionSpec>& options);

// "string", "integer", ... as used in docs and error messages.
std::string type_name(OptionType t);
// A value written as YAML (strings double-quoted unless plainly safe, e.g. `cpu`, `/data/glue`).
std::string value_yaml(const OptionSpec& spec, const Value& v);

}  // namespace hs::io
