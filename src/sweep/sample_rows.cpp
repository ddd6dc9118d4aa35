#include "sweep/sample_rows.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

#include "metrics/bootstrap.h"

namespace hs::sweep {

data::Dataset load_rows(const data::TaskSpec& task, const std::string& data_dir, const std::string& split,
                        int64_t limit, const std::string& sample, uint64_t seed) {
  if (sample == "first") return data::load_split(task, data_dir, split, limit);
  if (sample != "random") throw std::invalid_argument("load_rows: unknown sample '" + sample + "'");
  data::Dataset ds = data::load_split(task, data_dir, split, 0);
  const size_t n = ds.examples.size();
  if (limit == 0 || static_cast<size_t>(limit) >= n) return ds;
  // The first `limit` places of a Fisher-Yates shuffle are a uniform draw without replacement.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < static_cast<size_t>(limit); ++i) {
    std::swap(order[i], order[i + metrics::uniform_below(n - i, rng)]);
  }
  order.resize(static_cast<size_t>(limit));
  std::sort(order.begin(), order.end());
  std::vector<data::Example> kept;
  kept.reserve(order.size());
  for (size_t i : order) kept.push_back(std::move(ds.examples[i]));
  ds.examples = std::move(kept);
  return ds;
}

}  // namespace hs::sweep
