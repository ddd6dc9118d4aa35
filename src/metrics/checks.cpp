#include "metrics/checks.h"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace hs::metrics::detail {

void check_pair(std::string_view metric, const std::vector<double>& predictions,
                const std::vector<double>& gold) {
  if (predictions.empty()) {
    throw std::invalid_argument(fmt::format("{}: empty input", metric));
  }
  if (predictions.size() != gold.size()) {
    throw std::invalid_argument(fmt::format("{}: {} predictions but {} gold values", metric,
                                            predictions.size(), gold.size()));
  }
  for (size_t i = 0; i < predictions.size(); ++i) {
    if (!std::isfinite(predictions[i]) || !std::isfinite(gold[i])) {
      throw std::invalid_argument(fmt::format("{}: non-finite value at index {}", metric, i));
    }
  }
}

long long class_index(std::string_view metric, double value, size_t i) {
  if (value < 0 || value != std::floor(value) || value > 1e15) {
    throw std::invalid_argument(
        fmt::format("{}: value {} at index {} is not a class index", metric, value, i));
  }
  return static_cast<long long>(value);
}

}  // namespace hs::metrics::detail
