#pragma once
// Where a task's columns sit in one particular file. Headers decide by name, so both official
// MRPC variants and MNLI's 16-column dev / 12-column train files resolve without special cases.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "data/task_spec.h"

namespace hs::data {

struct ColumnPos {
  size_t index = 0;    // 0-based
  std::string label;   // for messages: "'sentence1' (column 9)" or "column 4"
};

struct FileLayout {
  size_t width = 0;  // every row must have exactly this many columns
  ColumnPos text_a;
  std::optional<ColumnPos> text_b;
  ColumnPos label;
};

// For a file with a header: each column by its name (ignoring case and surrounding blanks), else
// at its documented index. A header naming none of the task's columns is an InputError at
// `path`:1, since the file is then either headerless or of another task.
FileLayout resolve_header(const TaskSpec& task, const std::vector<std::string>& header,
                          const std::string& path);

// For a headerless layout (CoLA): the documented indices and column count.
FileLayout headerless_layout(const TaskSpec& task);

}  // namespace hs::data
