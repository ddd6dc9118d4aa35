#include "data/task_spec.h"

#include <cctype>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/error.h"

namespace hs::data {
namespace {

const std::vector<SplitFile> kTrainDev = {{"train", "train.tsv"}, {"dev", "dev.tsv"}};

TaskSpec classification(std::string name, std::string dir, std::vector<std::string> labels,
                        std::vector<std::string> tokens, std::vector<std::string> metrics,
                        ColumnRef text_a, std::optional<ColumnRef> text_b, ColumnRef label) {
  TaskSpec t;
  t.name = std::move(name);
  t.dir_name = std::move(dir);
  t.kind = TaskKind::Classification;
  t.labels = std::move(labels);
  t.label_tokens = std::move(tokens);
  t.metrics = std::move(metrics);
  t.text_a = std::move(text_a);
  t.text_b = std::move(text_b);
  t.label = std::move(label);
  t.splits = kTrainDev;
  return t;
}

std::vector<TaskSpec> make_registry() {
  std::vector<TaskSpec> r;
  // CoLA ships without a header: source, label, author's mark, sentence.
  TaskSpec cola = classification("cola", "CoLA", {"unacceptable", "acceptable"}, {"0", "1"}, {"mcc"},
                                 {"", 3}, std::nullopt, {"", 1});
  cola.has_header = false;
  cola.headerless_columns = 4;
  r.push_back(cola);
  r.push_back(classification("sst2", "SST-2", {"negative", "positive"}, {"0", "1"}, {"accuracy"},
                             {"sentence", 0}, std::nullopt, {"label", 1}));
  // The GLUE leaderboard reports MRPC and QQP as F1 / accuracy.
  r.push_back(classification("mrpc", "MRPC", {"not_equivalent", "equivalent"}, {"0", "1"},
                             {"f1", "accuracy"}, {"#1 String", 3}, ColumnRef{"#2 String", 4},
                             {"Quality", 0}));
  TaskSpec stsb;
  stsb.name = "stsb";
  stsb.dir_name = "STS-B";
  stsb.kind = TaskKind::Regression;
  // Spearman first: sentence-similarity work (SentEval, sentence-transformers) ranks by it, since
  // only the order of similarities matters for a cosine score.
  stsb.metrics = {"spearman", "pearson"};
  stsb.score_min = 0.0;
  stsb.score_max = 5.0;
  stsb.text_a = {"sentence1", 7};
  stsb.text_b = ColumnRef{"sentence2", 8};
  stsb.label = {"score", -1};
  stsb.splits = kTrainDev;
  r.push_back(stsb);
  r.push_back(classification("qqp", "QQP", {"not_duplicate", "duplicate"}, {"0", "1"},
                             {"f1", "accuracy"}, {"question1", 3}, ColumnRef{"question2", 4},
                             {"is_duplicate", 5}));
  // MNLI dev files carry label1..label5 before gold_label and train only label1, so the label is
  // found as the last column and the header decides the width.
  const std::vector<std::string> nli = {"entailment", "neutral", "contradiction"};
  TaskSpec mnli = classification("mnli", "MNLI", nli, nli, {"accuracy"}, {"sentence1", 8},
                                 ColumnRef{"sentence2", 9}, {"gold_label", -1});
  TaskSpec mnli_mm = mnli;
  mnli.splits = {{"train", "train.tsv"}, {"dev", "dev_matched.tsv"}};
  mnli_mm.name = "mnli-mm";
  mnli_mm.splits = {{"train", "train.tsv"}, {"dev", "dev_mismatched.tsv"}};
  r.push_back(mnli);
  r.push_back(mnli_mm);
  const std::vector<std::string> two_way = {"entailment", "not_entailment"};
  r.push_back(classification("qnli", "QNLI", two_way, two_way, {"accuracy"}, {"question", 1},
                             ColumnRef{"sentence", 2}, {"label", 3}));
  r.push_back(classification("rte", "RTE", two_way, two_way, {"accuracy"}, {"sentence1", 1},
                             ColumnRef{"sentence2", 2}, {"label", 3}));
  // WNLI writes 1 for entailment, so its class order is the reverse of RTE's.
  r.push_back(classification("wnli", "WNLI", {"not_entailment", "entailment"}, {"0", "1"},
                             {"accuracy"}, {"sentence1", 1}, ColumnRef{"sentence2", 2},
                             {"label", 3}));
  return r;
}

const std::vector<TaskSpec>& registry() {
  static const std::vector<TaskSpec> r = make_registry();
  return r;
}

std::string normalize(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '-' || c == '_') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

int TaskSpec::num_outputs() const {
  return kind == TaskKind::Regression ? 1 : static_cast<int>(labels.size());
}

const SplitFile& TaskSpec::split_file(std::string_view split) const {
  const std::string key = split == "validation" ? std::string("dev") : std::string(split);
  std::vector<std::string> known;
  for (const SplitFile& s : splits) {
    if (s.split == key) return s;
    known.push_back(s.split);
  }
  input_error("unknown split '{}' for task {} (known: {})", split, name, fmt::join(known, ", "));
}

const TaskSpec& find_task(std::string_view name) {
  std::string key = normalize(name);
  if (key == "mnlim" || key == "mnlimatched") key = "mnli";
  if (key == "mnlimismatched") key = "mnlimm";
  for (const TaskSpec& t : registry()) {
    if (normalize(t.name) == key) return t;
  }
  input_error("unknown GLUE task '{}' (known: {})", name, fmt::join(task_names(), ", "));
}

std::vector<std::string> task_names() {
  std::vector<std::string> names;
  for (const TaskSpec& t : registry()) names.push_back(t.name);
  return names;
}

}  // namespace hs::data
