#pragma once
// What `headsweep data` prints about a split: size, label balance or score spread, and how the
// token lengths compare with the model's max_seq_len (rows over it get truncated).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace hs::data {

struct LabelCount {
  std::string label;
  int64_t count = 0;
};

struct ScoreStats {
  double min = 0.0;
  double mean = 0.0;
  double max = 0.0;
  // Five equal bins over the task's score range, [lo, lo+w) ... [hi-w, hi]; the last is closed
  // so the top score (5.0 on STS-B) is counted.
  std::array<int64_t, 5> histogram{};
  double range_min = 0.0;
  double range_max = 0.0;
};

// Percentiles are nearest-rank: the smallest length with at least p% of rows at or below it, so
// every value reported is a length that occurs.
struct LengthStats {
  int min = 0;
  double mean = 0.0;
  int p50 = 0;
  int p90 = 0;
  int p99 = 0;
  int max = 0;
  int max_seq_len = 0;
  int64_t over_max = 0;  // rows longer than max_seq_len
};

struct DatasetSummary {
  std::string task;
  std::string split;
  std::string path;
  int64_t rows = 0;
  TaskKind kind = TaskKind::Classification;
  std::vector<LabelCount> label_counts;  // classification: every label in label order, zeros kept
  std::optional<ScoreStats> scores;      // regression
  std::optional<LengthStats> lengths;    // only when token lengths were given
};

// `token_lengths` is empty or holds one length per example (std::invalid_argument otherwise);
// max_seq_len must be positive (InputError otherwise).
DatasetSummary summarize(const Dataset& ds, const std::vector<int>& token_lengths = {},
                         int max_seq_len = 128);

// Multi-line, human-readable, ending in '\n'. `length_unit` names what the lengths count (the
// CLI counts words when no tokenizer is given).
std::string format_summary(const DatasetSummary& s, const std::string& length_unit = "tokens");

}  // namespace hs::data
