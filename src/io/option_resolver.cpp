#include "io/option_resolver.h"

#include <algorithm>
#include <map>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "io/option_value.h"
#include "io/suggest.h"
#include "util/error.h"

namespace hs::io {

namespace {

std::string kind_of(const YAML::Node& n) {
  if (n.IsMap()) return "a map";
  if (n.IsSequence()) return "a list";
  if (n.IsScalar()) return quoted(n.Scalar());
  return "an empty value";
}

[[noreturn]] void fail(const std::string& where, const std::string& key, const std::string& msg) {
  input_error("{}: {}: {}", where, key, msg);
}

struct Given {
  YAML::Node node;
  std::string where;
  OptionOrigin origin;
};

class Resolver {
 public:
  Resolver(const std::vector<OptionSpec>& table, const std::string& display, const EnvLookup& env)
      : table_(table), display_(display), env_(env), given_(table.size()) {
    for (size_t i = 0; i < table.size(); ++i) {
      const OptionSpec& s = table[i];
      if (!row_.emplace(s.key(), i).second) throw std::logic_error("option declared twice: " + s.key());
      if (section_options_.find(s.section) == section_options_.end()) sections_.push_back(s.section);
      section_options_[s.section].push_back(s.name);
    }
  }

  void read_file(const std::string& text) {
    for (size_t from = 0; from <= text.size();) {
      const size_t nl = std::min(text.find('\n', from), text.size());
      lines_.push_back(text.substr(from, nl - from));
      from = nl + 1;
    }
    // YAML text holds no C0 control character but tab, LF and CR; yaml-cpp reports one (a NUL byte
    // above all: a binary file given as the config) as a wrong escape somewhere else.
    for (size_t line = 0; line < lines_.size(); ++line) {
      const std::string& l = lines_[line];
      const auto bad = std::find_if(l.begin(), l.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return (c < 0x20 && c != '\t' && c != '\r') || c == 0x7f;
      });
      if (bad != l.end())
        input_error("{}:{}:{}: byte 0x{:02x}, a control character: a config is YAML text", display_, line + 1,
                    bad - l.begin() + 1, static_cast<unsigned char>(*bad));
    }
    std::vector<YAML::Node> docs;
    try {
      docs = YAML::LoadAll(text);
    } catch (const YAML::ParserException& e) {
      input_error("{}: invalid YAML: {}", where(e.mark), e.msg);
    }
    if (docs.size() > 1)
      input_error("{}: expected one YAML document, found {}", where(docs[1].Mark()), docs.size());
    if (docs.empty() || docs[0].IsNull()) return;
    const YAML::Node& root = docs[0];
    if (!root.IsMap())
      input_error("{}: expected a map of sections ({}), got {}", where(root.Mark()), join(sections_),
                  kind_of(root));
    std::map<std::string, int> seen;
    for (const auto& kv : root) {
      const YAML::Node& k = kv.first;
      const YAML::Node& v = kv.second;
      if (!k.IsScalar()) input_error("{}: expected a section name, got {}", where(k.Mark()), kind_of(k));
      const std::string name = k.Scalar();
      if (auto it = seen.find(name); it != seen.end())
        fail(where(k.Mark()), name, fmt::format("duplicate section (first at line {})", it->second));
      seen[name] = k.Mark().line + 1;
      if (section_options_.find(name) == section_options_.end())
        fail(where(k.Mark()), name, "unknown section" + hint(name, sections_, "known sections"));
      section_where_[name] = where(k.Mark());
      if (v.IsNull()) continue;
      if (!v.IsMap()) fail(where(v.Mark()), name, "expected a map of options, got " + kind_of(v));
      read_section(name, v);
    }
  }

  void read_override(const std::string& text) {
    const std::string at = "--set " + text;
    const size_t eq = text.find('=');
    if (eq == std::string::npos)
      input_error("{}: expected --set SECTION.OPTION=VALUE, e.g. --set task.limit=50", at);
    const std::string key = text.substr(0, eq);
    if (section_options_.count(key))
      fail(at, key, fmt::format("is a section; name one of its options ({})",
                                join(section_options_[key])));
    const auto it = row_.find(key);
    if (it == row_.end()) {
      std::vector<std::string> keys;
      for (const auto& s : table_) keys.push_back(s.key());
      const std::string guess = closest_match(key, keys);
      fail(at, key, guess.empty() ? "unknown option" : "unknown option (did you mean " + guess + "?)");
    }
    YAML::Node node;
    try {
      node = YAML::Load(text.substr(eq + 1));
    } catch (const YAML::ParserException& e) {
      fail(at, key, "invalid YAML value: " + e.msg);
    }
    given_[it->second] = Given{node, at, OptionOrigin::Override};
  }

  std::vector<ResolvedOption> resolve() {
    std::vector<ResolvedOption> out(table_.size());
    for (size_t i = 0; i < table_.size(); ++i) {
      const OptionSpec& s = table_[i];
      ResolvedOption& r = out[i];
      r.spec = &s;
      if (given_[i]) {
        const std::string problem = parse_option_value(s, given_[i]->node, env_, r.value);
        if (!problem.empty()) fail(given_[i]->where, s.key(), problem);
        r.where = given_[i]->where;
        r.origin = given_[i]->origin;
      } else {
        if (s.default_value) r.value = *s.default_value;
        r.where = section_where(s.section);
      }
    }
    for (size_t i = 0; i < table_.size(); ++i) {
      const OptionSpec& s = table_[i];
      ResolvedOption& r = out[i];
      if (s.used_when) {
        const auto c = row_.find(s.used_when->key);
        if (c == row_.end() || (table_[c->second].type != OptionType::String &&
                                table_[c->second].type != OptionType::StringList))
          throw std::logic_error(s.key() + ": used_when needs a string option, not " + s.used_when->key);
        const Value& current = out[c->second].value;
        const auto& allowed = s.used_when->values;
        r.used = condition_holds(current, allowed);
        if (!r.used && r.origin != OptionOrigin::Default)
          fail(r.where, s.key(),
               fmt::format("only used when {} is {} (it is {})", s.used_when->key, join(allowed, " or "),
                           condition_text(current)));
      }
      if (r.used && s.required && r.origin == OptionOrigin::Default)
        fail(r.where, s.key(), "required option is missing");
    }
    return out;
  }

 private:
  void read_section(const std::string& section, const YAML::Node& map) {
    std::map<std::string, int> seen;
    for (const auto& kv : map) {
      const YAML::Node& k = kv.first;
      const YAML::Node& v = kv.second;
      if (!k.IsScalar()) fail(where(k.Mark()), section, "expected an option name, got " + kind_of(k));
      const std::string key = section + "." + k.Scalar();
      if (auto it = seen.find(key); it != seen.end())
        fail(where(k.Mark()), key, fmt::format("duplicate option (first at line {})", it->second));
      seen[key] = k.Mark().line + 1;
      const auto row = row_.find(key);
      if (row == row_.end())
        fail(where(k.Mark()), key,
             "unknown option" + hint(k.Scalar(), section_options_[section], section + " options"));
      check_quotes_close(key, v);
      // An empty value has no position of its own (yaml-cpp marks the next token), so point at the key.
      given_[row->second] = Given{v, where(v.IsNull() ? k.Mark() : v.Mark()), OptionOrigin::File};
    }
  }

  // yaml-cpp reads a quote left open as a string that runs on to the end of the file, folding in
  // the lines after it, so the options there would seem missing. No option's value spans lines:
  // a quoted value (or list item) must close on the line it opens, and block scalars (| and >)
  // are refused.
  void check_quotes_close(const std::string& key, const YAML::Node& v) const {
    if (v.IsSequence()) {
      for (const YAML::Node& item : v) check_quotes_close(key, item);
      return;
    }
    if (!v.IsScalar() || v.Tag() != "!") return;  // "!": a quoted scalar
    const YAML::Mark m = v.Mark();
    if (m.is_null() || static_cast<size_t>(m.line) >= lines_.size()) return;
    const std::string& line = lines_[static_cast<size_t>(m.line)];
    const size_t open = static_cast<size_t>(m.column);
    if (open < line.size() && (line[open] == '|' || line[open] == '>'))
      // A literal block keeps its line breaks (a path ending in a newline), a folded one joins its
      // lines with spaces: neither is what a one-line value means.
      fail(where(m), key, fmt::format("a block scalar ({}) spans lines; write the value on this line", line[open]));
    if (open >= line.size() || (line[open] != '"' && line[open] != '\'')) return;
    const char q = line[open];
    for (size_t i = open + 1; i < line.size(); ++i) {
      if (q == '"' && line[i] == '\\') {
        ++i;  // an escaped character
      } else if (line[i] == q) {
        if (q == '\'' && i + 1 < line.size() && line[i + 1] == '\'') {
          ++i;  // '' is a quote inside single quotes
        } else {
          return;
        }
      }
    }
    fail(where(m), key, fmt::format("the {} quote opened here is not closed on this line", q == '"' ? "double" : "single"));
  }

  static std::string hint(const std::string& word, const std::vector<std::string>& known,
                          const std::string& what) {
    const std::string guess = closest_match(word, known);
    if (!guess.empty()) return " (did you mean " + guess + "?)";
    return " (" + what + ": " + join(known) + ")";
  }

  std::string where(const YAML::Mark& m) const {
    if (m.is_null()) return display_ + ":1:1";
    return fmt::format("{}:{}:{}", display_, m.line + 1, m.column + 1);
  }

  std::string section_where(const std::string& section) const {
    const auto it = section_where_.find(section);
    return it != section_where_.end() ? it->second : display_ + ":1:1";
  }

  const std::vector<OptionSpec>& table_;
  std::string display_;
  EnvLookup env_;
  std::map<std::string, size_t> row_;
  std::vector<std::string> sections_;
  std::map<std::string, std::vector<std::string>> section_options_;
  std::map<std::string, std::string> section_where_;
  std::vector<std::optional<Given>> given_;
  std::vector<std::string> lines_;  // of the file, for what yaml-cpp's nodes do not keep
};

}  // namespace

std::vector<ResolvedOption> resolve_options(const std::vector<OptionSpec>& table,
                                            const std::string& yaml_text,
                                            const std::string& display_name,
                                            const std::vector<std::string>& overrides,
                                            const EnvLookup& env) {
  Resolver r(table, display_name, env);
  r.read_file(yaml_text);
  for (const auto& o : overrides) r.read_override(o);
  return r.resolve();
}

const ResolvedOption& find_resolved(const std::vector<ResolvedOption>& resolved,
                                    const std::string& key) {
  for (const auto& r : resolved)
    if (r.spec->key() == key) return r;
  throw std::logic_error("no option " + key);
}

}  // namespace hs::io
