#pragma once
// Every mask of a set through one executor, results indexed by mask: what the executor-agreement
// tests compare.
#include <string>
#include <vector>

#include "masks/mask_set.h"
#include "sweep/executor.h"
#include "sweep/progress.h"

namespace hs::test {

inline std::vector<hs::sweep::MaskResult> run_every_mask(const std::string& executor,
                                                         const hs::sweep::SweepProblem& p,
                                                         const hs::masks::MaskSet& set) {
  std::vector<int64_t> todo(set.size());
  for (int64_t n = 0; n < set.size(); ++n) todo[n] = n;
  std::vector<hs::sweep::MaskResult> results(set.size());
  hs::sweep::Progress progress(hs::sweep::ProgressMode::None, set.size(), 1.0);
  hs::sweep::run_executor(executor, p, set, todo, [&](const hs::sweep::MaskResult& r) { results[r.mask] = r; },
                          progress);
  return results;
}

}  // namespace hs::test
