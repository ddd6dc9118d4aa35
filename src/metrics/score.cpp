#include "metrics/score.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "metrics/classification.h"
#include "metrics/correlation.h"
#include "util/error.h"

namespace hs::metrics {
namespace {

using MetricFn = double (*)(const std::vector<double>&, const std::vector<double>&);

struct Metric {
  std::string_view name;
  MetricFn fn;
  bool class_predictions;
};

constexpr Metric kMetrics[] = {
    {"accuracy", accuracy, true}, {"f1", f1, true},           {"mcc", mcc, true},
    {"pearson", pearson, false},  {"spearman", spearman, false},
};

const Metric& find_metric(std::string_view name) {
  for (const Metric& m : kMetrics) {
    if (m.name == name) return m;
  }
  input_error("unknown metric '{}' (known: {})", name, fmt::join(metric_names(), ", "));
}

}  // namespace

const std::vector<std::string>& metric_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const Metric& m : kMetrics) out.emplace_back(m.name);
    return out;
  }();
  return names;
}

bool takes_class_predictions(std::string_view name) { return find_metric(name).class_predictions; }

std::map<std::string, double> score(const std::vector<std::string>& names,
                                    const std::vector<double>& predictions,
                                    const std::vector<double>& gold) {
  std::vector<const Metric*> metrics;
  for (const std::string& name : names) metrics.push_back(&find_metric(name));
  const bool defined =
      std::all_of(predictions.begin(), predictions.end(), [](double p) { return std::isfinite(p); });
  std::map<std::string, double> out;
  for (const Metric* m : metrics)
    out[std::string(m->name)] = defined ? m->fn(predictions, gold) : std::numeric_limits<double>::quiet_NaN();
  return out;
}

}  // namespace hs::metrics
