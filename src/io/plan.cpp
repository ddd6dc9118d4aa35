#include "io/plan.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "io/h5_read.h"
#include "io/option_resolver.h"
#include "io/option_value.h"
#include "io/options.h"
#include "io/suggest.h"
#include "util/error.h"
#include "util/paths.h"

namespace fs = std::filesystem;

namespace hs::io {

bool ModelOptions::operator==(const ModelOptions& o) const {
  return path == o.path && head == o.head && pooling == o.pooling && labels == o.labels;
}
bool TaskOptions::operator==(const TaskOptions& o) const {
  return name == o.name && data_dir == o.data_dir && split == o.split &&
         max_seq_len == o.max_seq_len && limit == o.limit && sample == o.sample;
}
bool SweepOptions::operator==(const SweepOptions& o) const {
  return strategies == o.strategies && sparsities == o.sparsities && samples == o.samples &&
         seed == o.seed && min_heads_per_layer == o.min_heads_per_layer && layer == o.layer &&
         path == o.path && dataset == o.dataset;
}
bool RuntimeOptions::operator==(const RuntimeOptions& o) const {
  return device == o.device && dtype == o.dtype && attention == o.attention && threads == o.threads && streams == o.streams && token_budget == o.token_budget &&
         executor == o.executor && seed == o.seed && progress == o.progress;
}
bool ImportanceOptions::operator==(const ImportanceOptions& o) const {
  return method == o.method && split == o.split && limit == o.limit && sample == o.sample &&
         batch_size == o.batch_size &&
         normalize == o.normalize;
}
bool PruningOptions::operator==(const PruningOptions& o) const {
  return schedule == o.schedule && fractions == o.fractions && count == o.count && recompute == o.recompute &&
         min_heads_per_layer == o.min_heads_per_layer && orders == o.orders && random_orders == o.random_orders &&
         ablation_from == o.ablation_from && tolerance == o.tolerance && alpha == o.alpha;
}
bool AttentionOptions::operator==(const AttentionOptions& o) const { return statistics == o.statistics; }
bool StatsOptions::operator==(const StatsOptions& o) const {
  return bootstrap == o.bootstrap && confidence == o.confidence;
}
bool OutputOptions::operator==(const OutputOptions& o) const {
  return path == o.path && overwrite == o.overwrite;
}
bool Plan::operator==(const Plan& o) const {
  return model == o.model && task == o.task && sweep == o.sweep && runtime == o.runtime &&
         importance == o.importance && attention == o.attention && pruning == o.pruning && stats == o.stats && output == o.output && source == o.source;
}

namespace {

[[noreturn]] void fail(const ResolvedOption& r, const std::string& msg) {
  input_error("{}: {}: {}", r.where, r.spec->key(), msg);
}

void check_task(const ResolvedOption& r, const PlanContext& ctx) {
  const std::string& name = std::get<std::string>(r.value);
  const auto& names = ctx.task_names;
  bool known = true;
  if (ctx.is_known_task) {
    known = ctx.is_known_task(name);
  } else if (!names.empty()) {
    known = std::find(names.begin(), names.end(), name) != names.end();
  }
  if (known) return;
  std::string msg = "unknown task " + quoted(name);
  const std::string guess = closest_match(name, names);
  if (!guess.empty()) msg += " (did you mean " + guess + "?)";
  if (!names.empty()) msg += "; known tasks: " + join(names);
  fail(r, msg);
}

void check_split(const ResolvedOption& r, const std::string& task, const PlanContext& ctx) {
  if (!r.used || !ctx.split_problem) return;
  const std::string& split = std::get<std::string>(r.value);
  if (split == "auto" && r.spec->key() == "importance.split") return;
  const std::string problem = ctx.split_problem(task, split);
  if (!problem.empty()) fail(r, problem);
}

// A symlink loop or an unsearchable folder is named as such, not reported as a missing path.
fs::file_status option_path_status(const ResolvedOption& r, const std::string& path) {
  const PathLook look = look_at_path(path);
  if (!look.problem.empty()) fail(r, quoted(path) + " cannot be accessed (" + look.problem + ")");
  return look.status;
}

void check_file(const ResolvedOption& r) {
  const std::string& path = std::get<std::string>(r.value);
  const auto st = option_path_status(r, path);
  if (!fs::exists(st)) fail(r, quoted(path) + " does not exist");
  if (fs::is_directory(st)) fail(r, quoted(path) + " is a folder, not a file");
}

void check_folder(const ResolvedOption& r) {
  const std::string& path = std::get<std::string>(r.value);
  const auto st = option_path_status(r, path);
  if (!fs::exists(st)) fail(r, quoted(path) + " does not exist");
  if (!fs::is_directory(st)) fail(r, quoted(path) + " is not a folder");
}

// The writer checks again when it creates the file; this only moves the common mistakes before
// the model and data are loaded. An existing file is not an error here: `headsweep run` resumes it
// when it was made by the same sweep and refuses it otherwise (sweep/run.cpp, docs/cluster.md).
void check_output(const ResolvedOption& r, bool overwrite) {
  const std::string& path = std::get<std::string>(r.value);
  const auto st = option_path_status(r, path);
  if (fs::is_directory(st)) fail(r, quoted(path) + " is a folder, not a file name");
  if (!path.empty() && path.back() == '/') fail(r, quoted(path) + " ends in /: a folder name, not a file name");
  // /dev/null, a pipe: a run could neither resume nor replace it without harm.
  if (fs::exists(st) && !fs::is_regular_file(st))
    fail(r, quoted(path) + " is not a regular file (a device, a pipe or a socket), so it cannot hold results");
  // What overwrite would replace: only a results file, never the config, a data or model file.
  if (overwrite && fs::is_regular_file(st) && !is_hdf5_file(path))
    fail(r, quoted(path) + " is not a results file (HDF5), so output.overwrite does not replace it; delete it "
            "first if it should go");
  for (fs::path p = fs::path(path).parent_path(); !p.empty(); p = p.parent_path()) {
    const auto pst = option_path_status(r, p.string());
    if (fs::exists(pst)) {
      if (!fs::is_directory(pst)) fail(r, quoted(p.string()) + " is not a folder");
      break;
    }
    if (p == p.parent_path()) break;
  }
}

}  // namespace

void check_output_is_not_read(const Plan& plan, const std::string& output) {
  const std::string& out = output.empty() ? plan.output.path : output;
  std::error_code ec;
  if (!fs::exists(out, ec)) return;
  const bool reads_masks = std::find(plan.sweep.strategies.begin(), plan.sweep.strategies.end(), "file") !=
                           plan.sweep.strategies.end();
  for (const auto& [key, input] : {std::pair<const char*, std::string>{"sweep.path", reads_masks ? plan.sweep.path : ""},
                                   {"pruning.ablation_from", plan.pruning.ablation_from}}) {
    if (!input.empty() && fs::equivalent(out, input, ec))
      plan.where.fail(output.empty() ? "output.path" : key, "{} is the file {} reads; the results must go elsewhere",
                      quoted(out), key);
  }
}

Plan load_plan_text(const std::string& yaml_text, const std::string& display_name,
                    const std::vector<std::string>& overrides, const PlanContext& ctx) {
  const std::vector<ResolvedOption> resolved =
      resolve_options(plan_options(), yaml_text, display_name, overrides);
  check_task(find_resolved(resolved, "task.name"), ctx);
  Plan plan;
  // A required option that is not used has no value; its field keeps its zero value.
  for (const auto& r : resolved)
    if (r.spec->store && (r.used || r.spec->default_value)) r.spec->store(plan, r.value);
  plan.sweep.strategy = join(plan.sweep.strategies, "+");
  plan.source = display_name;
  for (const auto& r : resolved) plan.where.set(r.spec->key(), r.where);
  check_split(find_resolved(resolved, "task.split"), plan.task.name, ctx);
  check_split(find_resolved(resolved, "importance.split"), plan.task.name, ctx);
  if (ctx.check_paths) {
    check_folder(find_resolved(resolved, "model.path"));
    check_folder(find_resolved(resolved, "task.data_dir"));
    check_output(find_resolved(resolved, "output.path"), plan.output.overwrite);
    check_output_is_not_read(plan);
    if (const ResolvedOption& masks = find_resolved(resolved, "sweep.path"); masks.used) check_file(masks);
  }
  return plan;
}

Plan load_plan(const std::string& path, const std::vector<std::string>& overrides,
               const PlanContext& ctx) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) input_error("{}: is a folder, not a config file", path);
  std::ifstream in(path, std::ios::binary);
  if (!in) input_error("{}: cannot read the config: {}", path, std::strerror(errno));
  // A config is a few kilobytes; the cap keeps a wrong path (a device, a data file) from filling memory.
  constexpr std::streamsize kMaxConfigBytes = 1 << 20;
  std::string text(static_cast<size_t>(kMaxConfigBytes) + 1, '\0');
  in.read(text.data(), kMaxConfigBytes + 1);
  if (in.bad()) input_error("{}: cannot read the config: {}", path, std::strerror(errno));
  if (in.gcount() > kMaxConfigBytes) input_error("{}: more than 1 MiB; not a headsweep config", path);
  text.resize(static_cast<size_t>(in.gcount()));
  return load_plan_text(text, path, overrides, ctx);
}

std::string dump_config(const Plan& plan) {
  const auto& table = plan_options();
  auto used = [&](const OptionSpec& s) {
    if (!s.used_when) return true;
    for (const auto& c : table)
      if (c.key() == s.used_when->key) {
        return condition_holds(c.load(plan), s.used_when->values);
      }
    return false;
  };
  std::string out =
      "# headsweep config, resolved: every option, defaults included, environment variables "
      "expanded.\n";
  for (const auto& sec : plan_sections()) {
    out += "\n" + sec.name + ":\n";
    for (const auto& s : table)
      if (s.section == sec.name && used(s))
        out += fmt::format("  {}: {}\n", s.name, value_yaml(s, s.load(plan)));
  }
  return out;
}

}  // namespace hs::io
