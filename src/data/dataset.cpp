#include "data/dataset.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "data/layout.h"
#include "data/tsv.h"
#include "util/error.h"
#include "util/paths.h"

namespace hs::data {
namespace {

bool is_blank(const std::string& s) {
  for (unsigned char c : s) {
    if (!std::isspace(c)) return false;
  }
  return true;
}

// Exactly one finite number, no surrounding text; from_chars ignores the locale.
std::optional<double> parse_double(const std::string& s) {
  double v = 0.0;
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || ptr != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

double parse_label(const TaskSpec& task, const FileLayout& layout, const std::string& field,
                   const TsvReader& in) {
  if (task.kind == TaskKind::Regression) {
    const std::optional<double> v = parse_double(field);
    if (!v) {
      input_error("{}:{}: score '{}' in {} is not a number", in.path(), in.line(), field,
                  layout.label.label);
    }
    if (*v < task.score_min || *v > task.score_max) {
      input_error("{}:{}: score {} in {} is outside [{}, {}]", in.path(), in.line(), field,
                  layout.label.label, task.score_min, task.score_max);
    }
    return *v;
  }
  for (size_t i = 0; i < task.label_tokens.size(); ++i) {
    if (field == task.label_tokens[i]) return static_cast<double>(i);
  }
  input_error("{}:{}: label '{}' in {} is not one of {}", in.path(), in.line(), field,
              layout.label.label, fmt::join(task.label_tokens, ", "));
}

const std::string& text_at(const ColumnPos& col, const std::vector<std::string>& fields,
                           const TsvReader& in) {
  const std::string& text = fields[col.index];
  if (is_blank(text)) input_error("{}:{}: empty text in {}", in.path(), in.line(), col.label);
  return text;
}

}  // namespace

std::string find_split_file(const TaskSpec& task, const std::string& data_dir,
                            const std::string& split) {
  namespace fs = std::filesystem;
  const std::string& file = task.split_file(split).file;
  const std::vector<fs::path> tried = {fs::path(data_dir) / task.dir_name / file,
                                       fs::path(data_dir) / file};
  std::string not_regular;  // a folder, device or pipe in a tried place: named, since a read would block
  for (const fs::path& p : tried) {
    const fs::file_status st = path_status(p.string());
    if (fs::is_regular_file(st)) return p.string();
    if (fs::exists(st) && not_regular.empty()) not_regular = p.string();
  }
  if (!not_regular.empty()) input_error("{}: is not a regular file (a folder, a device or a pipe)", not_regular);
  input_error("no {} file for task {}: tried {} and {}", split, task.name, tried[0].string(),
              tried[1].string());
}

Dataset load_split(const TaskSpec& task, const std::string& data_dir, const std::string& split,
                   int64_t limit) {
  return load_file(task, find_split_file(task, data_dir, split), split, limit);
}

Dataset load_file(const TaskSpec& task, const std::string& path, const std::string& split,
                  int64_t limit) {
  if (limit < 0) input_error("row limit must be 0 (all rows) or positive, got {}", limit);
  Dataset ds;
  ds.task = &task;
  ds.split = task.split_file(split).split;
  ds.path = path;

  TsvReader in(path);
  std::vector<std::string> fields;
  FileLayout layout;
  if (task.has_header) {
    if (!in.next(fields)) input_error("{}: empty file, expected a header and data rows", path);
    layout = resolve_header(task, fields, path);
  } else {
    layout = headerless_layout(task);
  }

  while ((limit == 0 || static_cast<int64_t>(ds.examples.size()) < limit) && in.next(fields)) {
    if (fields.size() == 1 && fields[0].empty()) {
      input_error("{}:{}: empty line, expected {} tab-separated columns", path, in.line(),
                  layout.width);
    }
    if (fields.size() != layout.width) {
      input_error("{}:{}: expected {} tab-separated columns, found {}", path, in.line(),
                  layout.width, fields.size());
    }
    Example ex;
    ex.row = static_cast<int64_t>(ds.examples.size());
    ex.line = in.line();
    ex.text_a = text_at(layout.text_a, fields, in);
    if (layout.text_b) ex.text_b = text_at(*layout.text_b, fields, in);
    ex.label = parse_label(task, layout, fields[layout.label.index], in);
    ds.examples.push_back(std::move(ex));
  }
  if (ds.examples.empty()) input_error("{}: no data rows", path);
  return ds;
}

}  // namespace hs::data
