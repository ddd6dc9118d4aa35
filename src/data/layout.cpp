#include "data/layout.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/error.h"

namespace hs::data {
namespace {

std::string fold(const std::string& s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  std::string out = s.substr(b, e - b);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<size_t> find_by_name(const std::vector<std::string>& header, const std::string& name) {
  const std::string key = fold(name);
  for (size_t i = 0; i < header.size(); ++i) {
    if (fold(header[i]) == key) return i;
  }
  return std::nullopt;
}

// The documented index within a row of `width` columns, if it fits.
std::optional<size_t> index_in(const ColumnRef& col, size_t width) {
  const long long i = col.index < 0 ? static_cast<long long>(width) + col.index : col.index;
  if (i < 0 || i >= static_cast<long long>(width)) return std::nullopt;
  return static_cast<size_t>(i);
}

std::string describe(const std::vector<std::string>& header, size_t i) {
  return header.empty() ? fmt::format("column {}", i + 1)
                        : fmt::format("'{}' (column {})", header[i], i + 1);
}

std::vector<const ColumnRef*> columns_of(const TaskSpec& task) {
  std::vector<const ColumnRef*> cols = {&task.text_a};
  if (task.text_b) cols.push_back(&*task.text_b);
  cols.push_back(&task.label);
  return cols;
}

void check_distinct(const FileLayout& l, const std::string& path) {
  std::vector<size_t> idx = {l.text_a.index, l.label.index};
  if (l.text_b) idx.push_back(l.text_b->index);
  std::sort(idx.begin(), idx.end());
  if (std::adjacent_find(idx.begin(), idx.end()) != idx.end()) {
    input_error("{}:1: the header maps two of the task's columns to the same column", path);
  }
}

}  // namespace

FileLayout resolve_header(const TaskSpec& task, const std::vector<std::string>& header,
                          const std::string& path) {
  std::vector<std::string> names;
  bool any_named = false;
  for (const ColumnRef* c : columns_of(task)) {
    names.push_back(c->name);
    if (find_by_name(header, c->name)) any_named = true;
  }
  if (!any_named) {
    input_error("{}:1: expected a {} header with columns {}, found '{}'", path, task.name,
                fmt::join(names, ", "), fmt::join(header, "\\t"));
  }
  auto resolve = [&](const ColumnRef& c) {
    std::optional<size_t> i = find_by_name(header, c.name);
    if (!i) i = index_in(c, header.size());
    if (!i) {
      input_error("{}:1: the header has no column '{}' and too few columns ({}) for its usual "
                  "position",
                  path, c.name, header.size());
    }
    return ColumnPos{*i, describe(header, *i)};
  };
  FileLayout l;
  l.width = header.size();
  l.text_a = resolve(task.text_a);
  if (task.text_b) l.text_b = resolve(*task.text_b);
  l.label = resolve(task.label);
  check_distinct(l, path);
  return l;
}

FileLayout headerless_layout(const TaskSpec& task) {
  const size_t width = static_cast<size_t>(task.headerless_columns);
  auto resolve = [&](const ColumnRef& c) {
    // The registry defines these indices, so a miss is a registry bug.
    const size_t i = index_in(c, width).value();
    return ColumnPos{i, describe({}, i)};
  };
  FileLayout l;
  l.width = width;
  l.text_a = resolve(task.text_a);
  if (task.text_b) l.text_b = resolve(*task.text_b);
  l.label = resolve(task.label);
  return l;
}

}  // namespace hs::data
