#include "sweep/report.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "masks/mask_set.h"

namespace hs::sweep {
namespace {

// "1 mask", "2 masks".
std::string counted(int64_t n, const char* noun) { return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s"); }

// " L0.H3 0.912 L2.H7 0.850 ...": the top_k heads by value, largest first (ties in head order).
std::string top_heads(const std::vector<double>& values /* (L, H) */, int n_heads, int top_k,
                      fmt::format_string<double> value_format) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] > values[b]; });
  std::string out;
  for (size_t k = 0; k < std::min<size_t>(top_k, order.size()); ++k) {
    out += " " + masks::head_name(static_cast<int>(order[k] / n_heads), static_cast<int>(order[k] % n_heads)) + " " +
           fmt::format(value_format, values[order[k]]);
  }
  return out;
}

}  // namespace

std::string format_ranking(const std::vector<std::string>& metrics, const std::vector<std::string>& mask_names,
                           const std::vector<std::map<std::string, double>>& scores, int top_k,
                           const io::BootstrapColumns* intervals, double confidence) {
  const std::string& primary = metrics.front();
  const bool has_baseline = !scores.empty() && !scores[0].empty();
  std::string out;
  if (has_baseline) {
    out += "baseline:";
    for (const std::string& m : metrics) {
      out += fmt::format("  {} {:.4f}", m, scores[0].at(m));
      if (intervals && m == primary)
        out += fmt::format(" ({:.0f}% CI {:.4f} to {:.4f})", confidence * 100, intervals->ci[0], intervals->ci[1]);
    }
    out += "\n";
  } else {
    out += "baseline: not in this file\n";
  }
  // Masks whose change is undefined (NaN: a score over constant predictions or gold labels, or over model outputs
  // that are not finite; or a NaN baseline) are named apart from the ranking. Without the baseline,
  // the lowest scores come first.
  const double base = has_baseline ? scores[0].at(primary) : 0.0;
  auto drop = [&](int64_t n) { return base - scores[n].at(primary); };
  std::vector<int64_t> order;
  std::vector<std::string> undefined;  // scored masks whose primary metric is NaN
  size_t scored = 0;
  for (size_t n = 0; n < scores.size(); ++n) {
    if (scores[n].empty()) continue;
    ++scored;
    if (std::isnan(scores[n].at(primary))) undefined.push_back(n == 0 ? "baseline" : mask_names[n]);
    if (n > 0 && !std::isnan(drop(static_cast<int64_t>(n)))) order.push_back(static_cast<int64_t>(n));
  }
  if (!undefined.empty()) {
    const size_t shown = std::min<size_t>(undefined.size(), 5);
    out += fmt::format("{} of {} masks have no {} (NaN: constant predictions or gold labels, or model outputs "
                       "that are not finite): {}{}\n",
                       undefined.size(), scored, primary,
                       fmt::join(undefined.begin(), undefined.begin() + static_cast<std::ptrdiff_t>(shown), " "),
                       undefined.size() > shown ? " ..." : "");
  }
  if (order.empty()) return out;
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return drop(a) > drop(b); });
  const int k = std::min<int>(top_k, static_cast<int>(order.size()));
  out += has_baseline ? fmt::format("{} whose removal hurts {} most:\n", counted(k, "mask"), primary)
                      : fmt::format("{} with the lowest {}:\n", counted(k, "mask"), primary);
  for (int i = 0; i < k; ++i) {
    const int64_t n = order[i];
    std::string name = mask_names[n];
    if (!name.empty() && name[0] == '-') name = name.substr(1);
    out += fmt::format("  {:>2}. {:<10} {} {:.4f}", i + 1, name, primary, scores[n].at(primary));
    // fmt writes a NaN with a sign as "+nan"
    auto signed_value = [](double v) { return std::isnan(v) ? std::string("nan") : fmt::format("{:+.4f}", v); };
    if (has_baseline && intervals) {
      out += fmt::format("  (drop {}, {:.0f}% CI of the change {} to {}, p {:.3g})\n", signed_value(drop(n)),
                         confidence * 100, signed_value(intervals->delta_ci[2 * n]),
                         signed_value(intervals->delta_ci[2 * n + 1]), intervals->p_value[n]);
    } else {
      out += has_baseline ? fmt::format("  (drop {})\n", signed_value(drop(n))) : "\n";
    }
  }
  return out;
}

std::string format_importance(const std::vector<io::HeadImportance>& importance,
                              const std::map<std::string, double>& agreement, const std::vector<double>& ablation,
                              int n_heads, int top_k) {
  std::string out;
  for (const io::HeadImportance& i : importance) {
    out += fmt::format("{} importance ({} split, {} examples), most important:{}\n", i.method, i.split, i.examples,
                       top_heads(i.scores, n_heads, top_k, "{:.3f}"));
  }
  if (!agreement.empty()) {
    const auto covered = std::count_if(ablation.begin(), ablation.end(), [](double v) { return std::isfinite(v); });
    out += fmt::format("agreement with the single-head ablation drops (Spearman over {} heads):", covered);
    for (const auto& [method, rho] : agreement) out += fmt::format(" {} {:.3f}", method, rho);
    out += "\n";
  }
  return out;
}

std::string format_attention(const std::vector<io::HeadStatistic>& attention, int n_heads, int top_k) {
  std::string out;
  for (const io::HeadStatistic& st : attention) {
    if (st.name != "cls" && st.name != "sep" && st.name != "punct" && st.name != "prev" && st.name != "next") continue;
    out += fmt::format("attention on {:<5}, most:{}\n", st.name, top_heads(st.values, n_heads, top_k, "{:.2f}"));
  }
  return out;
}

std::string format_pruning(const std::vector<std::pair<io::PruningRecord, io::PruningScores>>& curves,
                           const std::string& metric, double tolerance, double alpha) {
  std::string out;
  for (const auto& [c, p] : curves) {
    out += fmt::format("pruning, {} order ({}):", c.name, metric);
    for (size_t k = 0; k < c.fractions.size(); ++k) out += fmt::format(" {:.0f}% {:.4f}", 100 * c.fractions[k], p.score[k]);
    out += fmt::format("\n  largest fraction pruned with every drop <= {:g}: {:.0f}%", tolerance, 100 * p.within_tolerance);
    if (!std::isnan(p.not_significant))
      out += fmt::format("; with no significant drop (alpha {:g}): {:.0f}%", alpha, 100 * p.not_significant);
    out += "\n";
  }
  return out;
}

std::string format_summary(const RunSummary& s, int top_k) {
  std::string out = fmt::format("{} on {} {} ({} examples, {} head): ", s.model_id, s.task, s.split, s.n_examples, s.head);
  const std::string part =
      s.shard.sharded() ? fmt::format("shard {} of {}, {} of {} masks", s.shard.index, s.shard.count, s.n_owned, s.n_masks)
                        : counted(s.n_masks, "mask");
  if (s.already_complete) {
    out += fmt::format("{} ({}), already complete: nothing to do (output.overwrite: true runs it again)\n", part,
                       s.strategy);
  } else if (s.n_resumed > 0 || s.shard.sharded()) {
    out += fmt::format("{} ({}), {} scored in {:.1f} s", part, s.strategy, s.n_scored, s.seconds);
    out += s.n_resumed > 0 ? fmt::format(", {} already in the file\n", s.n_resumed) : "\n";
  } else {
    out += fmt::format("{} ({}) in {:.1f} s\n", part, s.strategy, s.seconds);
  }
  out += format_ranking(s.metrics, s.mask_names, s.scores, top_k, s.bootstrap ? &*s.bootstrap : nullptr,
                        s.confidence);
  out += format_importance(s.importance, s.agreement, s.ablation, s.n_heads);
  out += format_attention(s.attention, s.n_heads);
  if (!s.pruning.empty()) out += format_pruning(s.pruning, s.metrics.front(), s.pruning_tolerance, s.pruning_alpha);
  out += fmt::format("results: {}\n", s.output_path);
  return out;
}

}  // namespace hs::sweep
