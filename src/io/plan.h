#pragma once
// The experiment plan: one struct per YAML config section. Defaults, types, ranges and help text
// live in the option table (io/options.cpp), never here, so that parsing, validation, --dump-config
// and docs/config.md cannot disagree.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace hs::io {

struct ModelOptions {
  std::string path;
  std::string head;     // auto | classification | regression | similarity
  std::string pooling;  // auto | mean | cls
  bool operator==(const ModelOptions& o) const;
};

struct TaskOptions {
  std::string name, data_dir, split;
  int max_seq_len = 0;
  int64_t limit = 0;  // 0 = all rows
  bool operator==(const TaskOptions& o) const;
};

// Strategy parameters are added here and in the table; a parameter that only one strategy reads is
// declared with used_when("sweep.strategy", {...}) so that setting it for another strategy is an error.
struct SweepOptions {
  std::string strategy;  // baseline | single-head | layer
  bool operator==(const SweepOptions& o) const;
};

struct RuntimeOptions {
  std::string device;  // cpu | cuda | cuda:N | auto
  int threads = 0;     // 0 = all cores
  int64_t token_budget = 0;
  int64_t seed = 0;
  std::string progress;  // auto | bar | lines | none
  bool operator==(const RuntimeOptions& o) const;
};

struct OutputOptions {
  std::string path;
  bool overwrite = false;
  bool operator==(const OutputOptions& o) const;
};

struct Plan {
  ModelOptions model;
  TaskOptions task;
  SweepOptions sweep;
  RuntimeOptions runtime;
  OutputOptions output;
  std::string source;  // the config file (or display name) the plan was read from
  bool operator==(const Plan& o) const;
  bool operator!=(const Plan& o) const { return !(*this == o); }
};

// What the plan loader needs to know from the rest of the program.
struct PlanContext {
  // Names listed in the error for an unknown task.name, and the membership test when
  // is_known_task is empty. With both empty, task.name is not checked.
  std::vector<std::string> task_names;
  // Accepts aliases the data module understands (e.g. "STS-B" for "stsb").
  std::function<bool(const std::string&)> is_known_task;
  // Check the file system before any work: model.path and task.data_dir are folders, and
  // output.path does not exist unless output.overwrite is true. Off for configs meant for
  // another machine and for tests.
  bool check_paths = true;
};

// Reads, expands and validates a config file, then applies `overrides` ("section.key=value", the
// --set flags). Every problem is an hs::InputError "FILE:LINE:COL: section.key: message" (or
// "--set section.key=value: ..."); nothing else needs checking afterwards.
Plan load_plan(const std::string& path, const std::vector<std::string>& overrides,
               const PlanContext& ctx);
Plan load_plan_text(const std::string& yaml_text, const std::string& display_name,
                    const std::vector<std::string>& overrides, const PlanContext& ctx);

// The resolved config as YAML: every option, defaults included, environment variables expanded.
// Stored in the results file; load_plan_text(dump_config(p), p.source, {}, ctx) == p.
std::string dump_config(const Plan& plan);

}  // namespace hs::io
