#pragma once
// A small valid config and a loader with a fixed task list, shared by the plan tests.
#include <string>
#include <vector>

#include "io/plan.h"

namespace hs::io::test {

inline const char* kMinimalConfig =
    "model:\n"
    "  path: /models/bert\n"
    "task:\n"
    "  name: mnli\n"
    "  data_dir: /data/glue\n"
    "output:\n"
    "  path: results/run.h5\n";

inline PlanContext test_context() {
  PlanContext ctx;
  ctx.task_names = {"cola", "sst2", "mrpc", "stsb", "mnli"};
  ctx.check_paths = false;
  return ctx;
}

inline Plan load(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return load_plan_text(text, "config.yaml", overrides, test_context());
}

}  // namespace hs::io::test
