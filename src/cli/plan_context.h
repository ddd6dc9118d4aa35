#pragma once
#include <string>
#include <vector>

#include "data/glue_tasks.h"
#include "io/plan.h"
#include "util/error.h"

namespace hs::cli {

// What the plan validator needs to know from other modules (task names), so io stays independent.
inline io::PlanContext plan_context() {
  io::PlanContext ctx;
  ctx.task_names = data::task_names();
  ctx.is_known_task = [](const std::string& name) {
    try {
      data::find_task(name);
      return true;
    } catch (const std::exception&) {
      return false;
    }
  };
  ctx.split_problem = [](const std::string& task, const std::string& split) -> std::string {
    try {
      data::find_task(task).split_file(split);
      return "";
    } catch (const InputError& e) {
      return e.what();
    }
  };
  return ctx;
}

}  // namespace hs::cli
