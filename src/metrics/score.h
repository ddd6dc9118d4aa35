#pragma once
// Scores a set of predictions under GLUE metrics by name, e.g. the metrics of a
// hs::data::TaskSpec.
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace hs::metrics {

// "accuracy", "f1", "mcc", "pearson", "spearman".
const std::vector<std::string>& metric_names();

// Whether `name` takes class indices (accuracy, f1, mcc) rather than real values (pearson,
// spearman). Throws InputError for an unknown name.
bool takes_class_predictions(std::string_view name);

// One value per requested name. Predictions are class indices (as double) for the classification
// metrics and real values for the correlations. Every name is checked before anything is
// computed: an unknown one is an InputError listing the known names. A prediction that is not
// finite (a model output that overflowed, e.g. in fp16, or NaN logits) makes every metric NaN: the
// mask's score is undefined, which its results row then says, rather than the sweep stopping.
// Other input problems throw as the individual metrics do (std::invalid_argument).
std::map<std::string, double> score(const std::vector<std::string>& metric_names,
                                    const std::vector<double>& predictions,
                                    const std::vector<double>& gold);

}  // namespace hs::metrics
