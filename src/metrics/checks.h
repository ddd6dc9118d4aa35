#pragma once
// Input checks shared by the metrics. Bad inputs here come from the caller's code, not from a user
// file (load_split already rejected those), so they throw std::invalid_argument.
#include <string_view>
#include <vector>

namespace hs::metrics::detail {

// Non-empty, equal lengths, every value finite.
void check_pair(std::string_view metric, const std::vector<double>& predictions,
                const std::vector<double>& gold);

// A class index: a non-negative integer stored in a double. Returns it as an integer.
long long class_index(std::string_view metric, double value, size_t i);

}  // namespace hs::metrics::detail
