#include "sweep/sweep_stats.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "metrics/ablation.h"
#include "metrics/bootstrap.h"
#include "sweep/workers.h"

namespace hs::sweep {

int64_t baseline_index(const std::vector<uint8_t>& masks, int L, int H) {
  const size_t LH = static_cast<size_t>(L) * H;
  for (size_t n = 0; LH > 0 && (n + 1) * LH <= masks.size(); ++n) {
    if (std::all_of(masks.begin() + n * LH, masks.begin() + (n + 1) * LH, [](uint8_t g) { return g != 0; })) {
      return static_cast<int64_t>(n);
    }
  }
  return -1;
}

std::vector<io::BootstrapColumns> bootstrap_intervals(const io::ResultsHeader& header,
                                                      const std::vector<uint8_t>& masks,
                                                      const std::vector<std::vector<float>>& predictions,
                                                      const std::vector<double>& gold) {
  const size_t N = predictions.size();
  const int64_t base = baseline_index(masks, header.n_layers, header.n_heads);
  if (base < 0) throw std::invalid_argument("bootstrap: the sweep has no baseline mask");
  const metrics::Resamples rs(static_cast<int64_t>(gold.size()), header.bootstrap_resamples,
                              static_cast<uint64_t>(header.bootstrap_seed));
  std::vector<io::BootstrapColumns> out;
  for (const std::string& metric : header.metrics) {
    auto resampled = [&](size_t n) {
      if (predictions[n].size() != gold.size()) {
        throw std::invalid_argument(
            fmt::format("bootstrap: mask {} has {} predictions for {} examples", n, predictions[n].size(), gold.size()));
      }
      const std::vector<double> pred(predictions[n].begin(), predictions[n].end());
      return metrics::resampled_scores(metric, pred, gold, rs);
    };
    const std::vector<double> baseline = resampled(static_cast<size_t>(base));
    io::BootstrapColumns c;
    c.ci.resize(2 * N);
    c.delta_ci.resize(2 * N);
    c.p_value.resize(N);
    parallel_items(N, [&](size_t n) {
      const metrics::PairedResult r =
          metrics::paired_bootstrap(resampled(n), baseline, header.bootstrap_confidence);
      c.ci[2 * n] = r.score.low;
      c.ci[2 * n + 1] = r.score.high;
      c.delta_ci[2 * n] = r.delta.low;
      c.delta_ci[2 * n + 1] = r.delta.high;
      c.p_value[n] = r.p_value;
    });
    out.push_back(std::move(c));
  }
  return out;
}

bool has_single_head_masks(const std::vector<uint8_t>& masks, int L, int H) {
  const size_t LH = static_cast<size_t>(L) * H;
  for (size_t n = 0; LH > 0 && (n + 1) * LH <= masks.size(); ++n) {
    if (std::count(masks.begin() + n * LH, masks.begin() + (n + 1) * LH, uint8_t{0}) == 1) return true;
  }
  return false;
}

AblationSummary ablation_summary(const io::ResultsHeader& header, const std::vector<uint8_t>& masks,
                                 const std::vector<double>& primary_scores) {
  AblationSummary s;
  s.drops = metrics::ablation_importance(masks, primary_scores, header.n_layers, header.n_heads);
  for (const io::HeadImportance& i : header.importance) s.agreement[i.method] = metrics::rank_agreement(i.scores, s.drops);
  return s;
}

std::vector<double> metric_scores(const std::vector<std::map<std::string, double>>& scores, const std::string& metric) {
  std::vector<double> out;
  for (const auto& m : scores) out.push_back(m.count(metric) ? m.at(metric) : std::nan(""));
  return out;
}

SweepStats summary_stats(const io::ResultsHeader& header, const std::vector<uint8_t>& masks,
                         const std::vector<std::map<std::string, double>>& scores,
                         std::optional<io::BootstrapColumns> bootstrap) {
  SweepStats out;
  out.bootstrap = std::move(bootstrap);
  const std::vector<double> primary = metric_scores(scores, header.metrics.front());
  if (header.ablation) out.ablation = ablation_summary(header, masks, primary);
  const std::vector<double> p_values = out.bootstrap ? out.bootstrap->p_value : std::vector<double>{};
  for (const io::PruningRecord& c : header.pruning)
    out.pruning.emplace_back(c, pruning_scores(c, primary, p_values, header.pruning_tolerance, header.pruning_alpha));
  return out;
}

SweepStats write_sweep_stats(io::ResultsWriter& writer, const io::ResultsHeader& header,
                             const std::vector<uint8_t>& masks, const std::vector<std::vector<float>>& predictions,
                             const std::vector<std::map<std::string, double>>& scores, const std::vector<double>& gold) {
  std::optional<io::BootstrapColumns> primary_bootstrap;
  if (header.bootstrap_resamples > 0) {
    const std::vector<io::BootstrapColumns> columns = bootstrap_intervals(header, masks, predictions, gold);
    for (size_t i = 0; i < header.metrics.size(); ++i) writer.write_bootstrap(header.metrics[i], columns[i]);
    primary_bootstrap = columns.front();
  }
  SweepStats out = summary_stats(header, masks, scores, std::move(primary_bootstrap));
  if (header.ablation) writer.write_ablation(out.ablation.drops, out.ablation.agreement);
  for (const auto& [curve, ps] : out.pruning) writer.write_pruning(curve.name, ps);
  return out;
}

io::PruningScores pruning_scores(const io::PruningRecord& curve, const std::vector<double>& primary_scores,
                                 const std::vector<double>& p_values, double tolerance, double alpha) {
  io::PruningScores out;
  const size_t S = curve.mask_index.size();
  if (S == 0) return out;
  const double base = primary_scores.at(static_cast<size_t>(curve.mask_index[0]));  // step 0: the full model
  bool within = true, quiet = !p_values.empty();
  out.not_significant = p_values.empty() ? std::nan("") : 0.0;
  for (size_t s = 0; s < S; ++s) {
    const auto n = static_cast<size_t>(curve.mask_index[s]);
    const double score = primary_scores.at(n);
    const double p = p_values.empty() ? std::nan("") : p_values.at(n);
    out.score.push_back(score);
    out.p_value.push_back(p);
    const double drop = base - score;
    within = within && drop <= tolerance;
    if (within) out.within_tolerance = curve.fractions[s];
    if (quiet) {
      quiet = drop <= 0 || p >= alpha;
      if (quiet) out.not_significant = curve.fractions[s];
    }
  }
  return out;
}

}  // namespace hs::sweep
