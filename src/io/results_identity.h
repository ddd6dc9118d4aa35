#pragma once
// What makes two results files (or a file and a run about to start) parts of the same sweep: the
// same config (minus the options that cannot change results), the same weights, the same masks and
// the same examples. `headsweep run` resumes a file only when they agree, and `headsweep merge`
// joins shards only when they agree (docs/cluster.md).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace hs::io {

class ResultsFile;

// Options left out of the config identity: where the file goes and how the run is displayed or
// spread over cores. Every other option, paths included, is part of it.
const std::vector<std::string>& config_keys_ignored();

// The "section.key" -> value text of a config as dump_config() writes it, ignored keys included.
std::map<std::string, std::string> config_entries(const std::string& config_yaml);

// SHA-256 (lowercase hex) of the config identity: the sorted "section.key: value" lines of
// config_entries() without the ignored keys. Stored as the root attribute config_sha256.
std::string config_sha256(const std::string& config_yaml);

// The options (ignored keys left out) whose values differ, e.g. "task.limit: 400 vs 300,
// runtime.seed: 0 vs 1", with `a_label`/`b_label` after each value when given ("400 in the file,
// 300 now"); "" when the identities are equal.
std::string config_difference(const std::string& a_yaml, const std::string& b_yaml,
                              const std::string& a_label = "", const std::string& b_label = "");

// Everything a results file must share with another file or a run to be resumed or merged.
struct SweepIdentity {
  std::string tool_version;
  std::string config_yaml;
  std::string model_sha256;
  std::string inputs_sha256;  // "" in files written before it existed: not compared then
  int n_layers = 0;
  int n_heads = 0;
  std::vector<std::string> metrics;
  std::vector<uint8_t> masks;  // (N, L, H)
  std::vector<std::string> mask_names;
  std::vector<double> labels;  // (B)
  std::vector<int64_t> rows;   // (B)
};

SweepIdentity read_identity(const ResultsFile& file);

// "" when a and b are the same sweep; otherwise the first difference, as a clause that completes
// "<file> ..." e.g. "was made by a different config (task.limit: 400 in the file, 300 now)",
// "was made with different weights (model_sha256 3f2a9c1d… in the file, 77b0e4a2… now)",
// "holds a different mask set (mask 5 is -L0.H4 in the file, -L0.H5 now)",
// "holds different examples (example 3 is row 3 with label 2.5 in the file, row 3 with label 2.6 now)".
// The labels name the two sides as in config_difference.
std::string identity_difference(const SweepIdentity& a, const SweepIdentity& b, const std::string& a_label,
                                const std::string& b_label);

}  // namespace hs::io
