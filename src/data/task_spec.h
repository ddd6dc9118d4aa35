#pragma once
// The GLUE task registry: where each task's files live, which columns hold the texts and the label,
// the label order of the Hugging Face checkpoints fine-tuned on it, and the official metrics.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hs::data {

enum class TaskKind { Classification, Regression };

// A column of a TSV layout. Files with a header are read by `name`; `index` is the documented
// position, used when the file has no header or its header lacks `name`. A negative index counts
// from the end (-1 = last column), as STS-B's score and MNLI's gold_label are defined.
struct ColumnRef {
  std::string name;
  int index = 0;
};

struct SplitFile {
  std::string split;  // "train" or "dev"
  std::string file;   // file name inside the task folder
};

struct TaskSpec {
  std::string name;      // canonical, e.g. "stsb", "mnli-mm"
  std::string dir_name;  // folder in the GLUE root, e.g. "STS-B"
  TaskKind kind = TaskKind::Classification;
  // Class names in the order of the Hugging Face label ids (class i = logit i). Empty for regression.
  std::vector<std::string> labels;
  // How each class is written in the label column, parallel to `labels` ("0"/"1" for CoLA).
  std::vector<std::string> label_tokens;
  // Official GLUE metrics in leaderboard order; the first is the primary one.
  std::vector<std::string> metrics;
  bool has_header = true;
  int headerless_columns = 0;  // exact column count of a file without a header
  // Valid range of a regression score (STS-B: 0 to 5).
  double score_min = 0.0;
  double score_max = 0.0;
  ColumnRef text_a;
  std::optional<ColumnRef> text_b;  // absent for single-sentence tasks
  ColumnRef label;
  std::vector<SplitFile> splits;

  bool has_pair() const { return text_b.has_value(); }
  // 1 for regression (one output), the number of classes otherwise.
  int num_outputs() const;
  // The file name for a split ("train", "dev"; "validation" is accepted for "dev");
  // throws InputError listing the known splits.
  const SplitFile& split_file(std::string_view split) const;
};

// Looks a task up by name, ignoring case, '-' and '_' ("STS-B", "sst-2", "MNLI_MM"); "mnli-m" and
// "mnli-matched" name mnli, "mnli-mismatched" names mnli-mm. Throws InputError listing known names.
const TaskSpec& find_task(std::string_view name);

// Canonical names, in GLUE's order.
std::vector<std::string> task_names();

}  // namespace hs::data
