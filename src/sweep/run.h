#pragma once
// One experiment run: plan in, results file out. Everything the plan names is opened and checked
// before the first forward pass, so a bad input fails fast and leaves no results file behind.
#include <map>
#include <string>
#include <vector>

#include "io/plan.h"

namespace hs::sweep {

struct RunSummary {
  std::string output_path;
  std::string model_id;
  std::string task;
  std::string split;
  std::string strategy;
  std::string head;
  int64_t n_examples = 0;
  int64_t n_masks = 0;
  int threads = 0;
  std::vector<std::string> metrics;                       // primary first
  std::vector<std::string> mask_names;                    // (N)
  std::vector<std::map<std::string, double>> scores;      // (N)
  double seconds = 0;
};

RunSummary run_plan(const io::Plan& plan);

// The human-readable report: baseline scores and the masks that hurt the primary metric most.
std::string format_summary(const RunSummary& s, int top_k = 10);

}  // namespace hs::sweep
