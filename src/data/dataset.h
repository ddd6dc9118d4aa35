#pragma once
// Loading one split of a GLUE task into memory. Every data row becomes an Example or an
// InputError "FILE:LINE: what is wrong"; no row is ever skipped.
#include <cstdint>
#include <string>
#include <vector>

#include "data/task_spec.h"

namespace hs::data {

struct Example {
  int64_t row = 0;   // 0-based data row (the header is not a row)
  int64_t line = 0;  // 1-based line in the file, for messages that point back into it
  std::string text_a;
  std::string text_b;  // empty for single-sentence tasks (TaskSpec::has_pair() is false)
  double label = 0.0;  // class index into TaskSpec::labels, or the score for regression
};

struct Dataset {
  const TaskSpec* task = nullptr;
  std::string split;  // canonical split name ("train", "dev")
  std::string path;   // the file read
  std::vector<Example> examples;
};

// The file holding `split` of `task`. `data_dir` may be the GLUE root (holding STS-B/) or the
// task's own folder; the root layout is tried first. Throws InputError naming every path tried.
std::string find_split_file(const TaskSpec& task, const std::string& data_dir,
                            const std::string& split);

// Loads `split` of `task` from `data_dir` (see find_split_file). With limit > 0 only the first
// `limit` data rows are read and checked, the rest of the file is not looked at; limit 0 reads
// all rows; a negative limit is an InputError. A file without data rows is an InputError.
//
// Rows are checked strictly: the column count must equal the header's (or the fixed count of a
// headerless layout), every text must be non-blank, a class label must be one of the task's
// label tokens, and a score must be a finite number in the task's range. Messages count columns
// from 1, as editors do.
Dataset load_split(const TaskSpec& task, const std::string& data_dir, const std::string& split,
                   int64_t limit = 0);

// Same, from an explicit file in the task's layout; `split` is only recorded.
Dataset load_file(const TaskSpec& task, const std::string& path, const std::string& split,
                  int64_t limit = 0);

}  // namespace hs::data
