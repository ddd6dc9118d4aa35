#include "io/option_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <regex>

#include <fmt/format.h>

#include "io/suggest.h"

namespace hs::io {

namespace {

const std::string kCoreTag = "tag:yaml.org,2002:";

// A plain (unquoted, untagged) scalar, or one explicitly tagged with the YAML core type `core`.
bool plain_or(const YAML::Node& n, const char* core) {
  return n.Tag() == "?" || n.Tag() == kCoreTag + core;
}

bool quoted_scalar(const YAML::Node& n) { return n.Tag() == "!" || n.Tag() == kCoreTag + "str"; }

std::string expected_text(OptionType t) {
  switch (t) {
    case OptionType::String: return "a string";
    case OptionType::Int: return "an integer";
    case OptionType::Float: return "a number";
    case OptionType::Bool: return "true or false";
    case OptionType::FloatList: return "a list of numbers";
    case OptionType::StringList: return "a string or a list of strings";
  }
  return "";
}

std::string describe(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "an empty value";
  if (n.IsMap()) return "a map";
  if (n.IsSequence()) return "a list";
  if (quoted_scalar(n)) return "the string " + quoted(n.Scalar()) + " (remove the quotes)";
  return quoted(n.Scalar());
}

std::string mismatch(OptionType t, const YAML::Node& n) {
  return "expected " + expected_text(t) + ", got " + describe(n);
}

std::string format_number(double d) { return fmt::format("{}", d); }

std::string range_text(const OptionSpec& s, bool integer) {
  std::optional<double> lo = s.min, hi = s.max;
  if (s.field_min && (!lo || *s.field_min > *lo)) lo = s.field_min;
  if (s.field_max && (!hi || *s.field_max < *hi)) hi = s.field_max;
  const std::string what = integer ? "an integer" : "a number";
  if (lo && hi) return what + " from " + format_number(*lo) + " to " + format_number(*hi);
  if (lo) return what + " of at least " + format_number(*lo);
  if (hi) return what + " of at most " + format_number(*hi);
  return what;
}

bool in_range(const OptionSpec& s, double v) {
  for (const auto& lo : {s.min, s.field_min})
    if (lo && v < *lo) return false;
  for (const auto& hi : {s.max, s.field_max})
    if (hi && v > *hi) return false;
  return true;
}

std::string strip_plus(const std::string& s) { return !s.empty() && s[0] == '+' ? s.substr(1) : s; }

// Decimal integers only: YAML's 0x/0o forms are more surprising than useful in a config.
std::string parse_int(const YAML::Node& n, int64_t& out) {
  static const std::regex re("[-+]?[0-9]+");
  if (!n.IsScalar() || !plain_or(n, "int") || !std::regex_match(n.Scalar(), re))
    return mismatch(OptionType::Int, n);
  const std::string s = strip_plus(n.Scalar());
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  if (r.ec != std::errc()) return "expected an integer, got " + n.Scalar() + " (too large)";
  return "";
}

std::string parse_float(const YAML::Node& n, double& out) {
  static const std::regex re(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (!n.IsScalar() || !(plain_or(n, "float") || plain_or(n, "int")) ||
      !std::regex_match(n.Scalar(), re))
    return mismatch(OptionType::Float, n);
  const std::string s = strip_plus(n.Scalar());
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  if (r.ec != std::errc() || !std::isfinite(out))
    return "expected a number, got " + n.Scalar() + " (out of range)";
  return "";
}

// A string against the spec's allowed values (none = anything goes); returns the problem or "".
std::string check_choice(const OptionSpec& spec, const std::string& s) {
  if (spec.choices.empty() || std::find(spec.choices.begin(), spec.choices.end(), s) != spec.choices.end())
    return "";
  std::string msg = "expected one of " + join(spec.choices) + "; got " + quoted(s);
  const std::string guess = closest_match(s, spec.choices);
  if (!guess.empty()) msg += " (did you mean " + guess + "?)";
  return msg;
}

// A string scalar with ${VAR} expanded.
std::string parse_string(const YAML::Node& n, const EnvLookup& env, std::string& out) {
  if (!n.IsDefined() || !n.IsScalar()) return mismatch(OptionType::String, n);
  Expanded e = expand_env(n.Scalar(), env);
  if (!e.error.empty()) return e.error;
  out = std::move(e.text);
  return "";
}

std::string parse_bool(const YAML::Node& n, bool& out) {
  if (n.IsScalar() && plain_or(n, "bool")) {
    const std::string& s = n.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") return out = true, "";
    if (s == "false" || s == "False" || s == "FALSE") return out = false, "";
  }
  return mismatch(OptionType::Bool, n);
}

}  // namespace

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string check_option_value(const OptionSpec& spec, const Value& v) {
  switch (spec.type) {
    case OptionType::Int: {
      const int64_t i = std::get<int64_t>(v);
      if (!in_range(spec, static_cast<double>(i)))
        return "expected " + range_text(spec, true) + ", got " + std::to_string(i);
      break;
    }
    case OptionType::Float: {
      const double d = std::get<double>(v);
      if (!in_range(spec, d)) return "expected " + range_text(spec, false) + ", got " + format_number(d);
      break;
    }
    case OptionType::FloatList: {
      const auto& list = std::get<std::vector<double>>(v);
      for (size_t i = 0; i < list.size(); ++i)
        if (!in_range(spec, list[i]))
          return fmt::format("item {}: expected {}, got {}", i + 1, range_text(spec, false),
                             format_number(list[i]));
      break;
    }
    case OptionType::String: {
      const std::string& text = std::get<std::string>(v);
      // An empty path (`path: ""`, or `${OUTDIR}` with OUTDIR set but empty) names nothing, and
      // output.path would become a hidden file in the working folder. Options whose default is ""
      // take "" as "not set".
      const auto* fallback = spec.default_value ? std::get_if<std::string>(&*spec.default_value) : nullptr;
      if (text.empty() && spec.choices.empty() && !(fallback && fallback->empty()))
        return "expected a non-empty string, got \"\"";
      const std::string problem = check_choice(spec, text);
      if (!problem.empty()) return problem;
      break;
    }
    case OptionType::StringList: {
      const auto& list = std::get<std::vector<std::string>>(v);
      if (list.empty()) return "expected at least one value, got an empty list";
      for (size_t i = 0; i < list.size(); ++i) {
        // A single value is usually written as a scalar, where "item 1" would only confuse.
        const std::string item = list.size() > 1 ? fmt::format("item {}: ", i + 1) : "";
        const std::string problem = check_choice(spec, list[i]);
        if (!problem.empty()) return item + problem;
        for (size_t j = 0; j < i; ++j)
          if (list[j] == list[i]) return fmt::format("{}{} repeats item {}", item, quoted(list[i]), j + 1);
      }
      break;
    }
    case OptionType::Bool: break;
  }
  return spec.check ? spec.check(v) : "";
}

bool condition_holds(const Value& v, const std::vector<std::string>& values) {
  auto one_of = [&](const std::string& s) {
    return std::find(values.begin(), values.end(), s) != values.end();
  };
  if (const auto* s = std::get_if<std::string>(&v)) return one_of(*s);
  if (const auto* list = std::get_if<std::vector<std::string>>(&v))
    return std::any_of(list->begin(), list->end(), one_of);
  return false;
}

std::string condition_text(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* list = std::get_if<std::vector<std::string>>(&v))
    return list->size() == 1 ? list->front() : "[" + join(*list) + "]";
  return "";
}

std::string parse_option_value(const OptionSpec& spec, const YAML::Node& node, const EnvLookup& env,
                               Value& out) {
  std::string problem;
  switch (spec.type) {
    case OptionType::String: {
      std::string s;
      const std::string p = parse_string(node, env, s);
      if (!p.empty()) return p;
      out = std::move(s);
      break;
    }
    case OptionType::Int: {
      int64_t i = 0;
      problem = parse_int(node, i);
      out = i;
      break;
    }
    case OptionType::Float: {
      double d = 0;
      problem = parse_float(node, d);
      out = d;
      break;
    }
    case OptionType::Bool: {
      bool b = false;
      problem = parse_bool(node, b);
      out = b;
      break;
    }
    case OptionType::FloatList: {
      if (!node.IsDefined() || !node.IsSequence()) return mismatch(spec.type, node);
      std::vector<double> list;
      for (size_t i = 0; i < node.size(); ++i) {
        double d = 0;
        const std::string p = parse_float(node[i], d);
        if (!p.empty()) return fmt::format("item {}: {}", i + 1, p);
        list.push_back(d);
      }
      out = std::move(list);
      break;
    }
    case OptionType::StringList: {
      // One scalar is a list of one, so `strategy: single-head` and `strategy: [single-head]` agree.
      std::vector<std::string> list;
      if (node.IsDefined() && node.IsScalar()) {
        std::string s;
        const std::string p = parse_string(node, env, s);
        if (!p.empty()) return p;
        list.push_back(std::move(s));
      } else if (node.IsDefined() && node.IsSequence()) {
        for (size_t i = 0; i < node.size(); ++i) {
          std::string s;
          const std::string p = parse_string(node[i], env, s);
          if (!p.empty()) return fmt::format("item {}: {}", i + 1, p);
          list.push_back(std::move(s));
        }
      } else {
        return mismatch(spec.type, node);
      }
      out = std::move(list);
      break;
    }
  }
  if (!problem.empty()) {
    if (node.IsScalar() && node.Scalar().find("${") != std::string::npos)
      problem += " (${VAR} is expanded in string options only)";
    return problem;
  }
  return check_option_value(spec, out);
}

}  // namespace hs::io
