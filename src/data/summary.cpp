#include "data/summary.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "util/error.h"

namespace hs::data {
namespace {

ScoreStats score_stats(const Dataset& ds) {
  ScoreStats s;
  s.range_min = ds.task->score_min;
  s.range_max = ds.task->score_max;
  s.min = ds.examples.front().label;
  s.max = s.min;
  double sum = 0.0;
  const double width = (s.range_max - s.range_min) / static_cast<double>(s.histogram.size());
  for (const Example& ex : ds.examples) {
    s.min = std::min(s.min, ex.label);
    s.max = std::max(s.max, ex.label);
    sum += ex.label;
    const double pos = width > 0 ? (ex.label - s.range_min) / width : 0.0;
    const int last = static_cast<int>(s.histogram.size()) - 1;
    const int bin = std::clamp(static_cast<int>(pos), 0, last);
    ++s.histogram[static_cast<size_t>(bin)];
  }
  s.mean = sum / static_cast<double>(ds.examples.size());
  return s;
}

int nearest_rank(const std::vector<int>& sorted, int64_t percent) {
  const int64_t n = static_cast<int64_t>(sorted.size());
  const int64_t rank = std::max<int64_t>(1, (percent * n + 99) / 100);
  return sorted[static_cast<size_t>(rank - 1)];
}

LengthStats length_stats(std::vector<int> lengths, int max_seq_len) {
  std::sort(lengths.begin(), lengths.end());
  LengthStats s;
  s.min = lengths.front();
  s.max = lengths.back();
  double sum = 0.0;
  for (int n : lengths) {
    sum += n;
    if (n > max_seq_len) ++s.over_max;
  }
  s.mean = sum / static_cast<double>(lengths.size());
  s.p50 = nearest_rank(lengths, 50);
  s.p90 = nearest_rank(lengths, 90);
  s.p99 = nearest_rank(lengths, 99);
  s.max_seq_len = max_seq_len;
  return s;
}

double percent(int64_t part, int64_t whole) {
  return whole > 0 ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

}  // namespace

DatasetSummary summarize(const Dataset& ds, const std::vector<int>& token_lengths,
                         int max_seq_len) {
  if (ds.task == nullptr || ds.examples.empty()) {
    throw std::invalid_argument("summarize: dataset without task or examples");
  }
  if (!token_lengths.empty() && token_lengths.size() != ds.examples.size()) {
    throw std::invalid_argument(fmt::format("summarize: {} token lengths for {} examples",
                                            token_lengths.size(), ds.examples.size()));
  }
  if (max_seq_len <= 0) input_error("max_seq_len must be positive, got {}", max_seq_len);

  DatasetSummary s;
  s.task = ds.task->name;
  s.split = ds.split;
  s.path = ds.path;
  s.rows = static_cast<int64_t>(ds.examples.size());
  s.kind = ds.task->kind;
  if (s.kind == TaskKind::Regression) {
    s.scores = score_stats(ds);
  } else {
    for (const std::string& name : ds.task->labels) s.label_counts.push_back({name, 0});
    for (const Example& ex : ds.examples) ++s.label_counts[static_cast<size_t>(ex.label)].count;
  }
  if (!token_lengths.empty()) s.lengths = length_stats(token_lengths, max_seq_len);
  return s;
}

std::string format_summary(const DatasetSummary& s, const std::string& length_unit) {
  std::string out = fmt::format("{} {}: {} rows ({})\n", s.task, s.split, s.rows, s.path);
  if (s.scores) {
    const ScoreStats& sc = *s.scores;
    out += fmt::format("scores: min {:.3f}, mean {:.3f}, max {:.3f}\n", sc.min, sc.mean, sc.max);
    const double width = (sc.range_max - sc.range_min) / static_cast<double>(sc.histogram.size());
    for (size_t i = 0; i < sc.histogram.size(); ++i) {
      const double lo = sc.range_min + width * static_cast<double>(i);
      const bool last = i + 1 == sc.histogram.size();
      out += fmt::format("  [{:g}, {:g}{} {:>8} {:5.1f}%\n", lo, lo + width, last ? "]" : ")",
                         sc.histogram[i], percent(sc.histogram[i], s.rows));
    }
  } else {
    size_t name_width = 0;
    for (const LabelCount& lc : s.label_counts) name_width = std::max(name_width, lc.label.size());
    out += "labels:\n";
    for (size_t i = 0; i < s.label_counts.size(); ++i) {
      const LabelCount& lc = s.label_counts[i];
      out += fmt::format("  {} {:<{}} {:>8} {:5.1f}%\n", i, lc.label, name_width, lc.count,
                         percent(lc.count, s.rows));
    }
  }
  if (s.lengths) {
    const LengthStats& l = *s.lengths;
    out += fmt::format(
        "lengths ({}): min {}, mean {:.1f}, p50 {}, p90 {}, p99 {}, max {}; {} over max_seq_len "
        "{} ({:.1f}%)\n",
        length_unit, l.min, l.mean, l.p50, l.p90, l.p99, l.max, l.over_max, l.max_seq_len,
        percent(l.over_max, s.rows));
  }
  return out;
}

}  // namespace hs::data
