#include "io/results_identity.h"

#include <algorithm>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "io/results_file.h"
#include "util/sha256.h"

namespace hs::io {

const std::vector<std::string>& config_keys_ignored() {
  // output.path: the same sweep may be written anywhere (shards, a moved file).
  // output.overwrite: decides what happens to an existing file, not what is in it.
  // runtime.threads: a machine setting; 0 means "every core", which differs between machines.
  // runtime.streams: the same, for GPUs.
  // runtime.progress: display only.
  static const std::vector<std::string> keys = {"output.path", "output.overwrite", "runtime.threads",
                                                "runtime.streams", "runtime.progress"};
  return keys;
}

std::map<std::string, std::string> config_entries(const std::string& config_yaml) {
  std::map<std::string, std::string> out;
  std::istringstream in(config_yaml);
  std::string line, section;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (line[0] != ' ') {  // "section:"
      section = line.substr(0, line.find(':'));
      continue;
    }
    const size_t start = line.find_first_not_of(' ');
    const size_t colon = line.find(':', start);
    if (start == std::string::npos || colon == std::string::npos || line[start] == '#') continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    out[section + "." + line.substr(start, colon - start)] = value;
  }
  return out;
}

namespace {

bool ignored(const std::string& key) {
  const auto& keys = config_keys_ignored();
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// "a vs b", or "a in the file, b now" when the sides have names.
std::string pair(const std::string& a, const std::string& b, const std::string& a_label,
                 const std::string& b_label) {
  if (a_label.empty() && b_label.empty()) return a + " vs " + b;
  return fmt::format("{} {}, {} {}", a, a_label, b, b_label);
}

std::string short_hash(const std::string& h) { return h.size() > 12 ? h.substr(0, 12) + "…" : h; }

}  // namespace

std::string config_sha256(const std::string& config_yaml) {
  std::string text;
  for (const auto& [key, value] : config_entries(config_yaml))  // std::map: sorted by key
    if (!ignored(key)) text += key + ": " + value + "\n";
  return sha256_hex(text);
}

std::string config_difference(const std::string& a_yaml, const std::string& b_yaml,
                              const std::string& a_label, const std::string& b_label) {
  const auto a = config_entries(a_yaml), b = config_entries(b_yaml);
  std::vector<std::string> diffs;
  auto value = [](const std::map<std::string, std::string>& m, const std::string& k) {
    const auto it = m.find(k);
    return it == m.end() ? std::string("(not set)") : it->second;
  };
  std::vector<std::string> keys;
  for (const auto& kv : a) keys.push_back(kv.first);
  for (const auto& kv : b)
    if (!a.count(kv.first)) keys.push_back(kv.first);
  std::sort(keys.begin(), keys.end());
  for (const std::string& k : keys) {
    if (ignored(k)) continue;
    const std::string va = value(a, k), vb = value(b, k);
    if (va != vb) diffs.push_back(k + ": " + pair(va, vb, a_label, b_label));
  }
  return fmt::format("{}", fmt::join(diffs, "; "));
}

SweepIdentity read_identity(const ResultsFile& file) {
  const ResultsInfo& info = file.info();
  SweepIdentity id;
  id.tool_version = info.header.tool_version;
  id.config_yaml = info.header.config_yaml;
  id.model_sha256 = info.header.model_sha256;
  id.inputs_sha256 = info.header.inputs_sha256;
  id.n_layers = info.header.n_layers;
  id.n_heads = info.header.n_heads;
  id.metrics = info.header.metrics;
  id.masks = file.masks();
  id.mask_names = file.mask_names();
  id.labels = file.labels();
  id.rows = file.rows();
  return id;
}

std::string identity_difference(const SweepIdentity& a, const SweepIdentity& b, const std::string& al,
                                const std::string& bl) {
  if (a.tool_version != b.tool_version)
    return "was written by a different headsweep (version " + pair(a.tool_version, b.tool_version, al, bl) + ")";
  const std::string config = config_difference(a.config_yaml, b.config_yaml, al, bl);
  if (!config.empty()) return "was made by a different config (" + config + ")";
  if (a.model_sha256 != b.model_sha256)
    return "was made with different weights (model_sha256 " +
           pair(short_hash(a.model_sha256), short_hash(b.model_sha256), al, bl) + ")";
  if (!a.inputs_sha256.empty() && !b.inputs_sha256.empty() && a.inputs_sha256 != b.inputs_sha256)
    return "was made from different inputs: the examples' tokens or the task head differ, as the text, vocab.txt, "
           "the tokenizer's settings, 1_Pooling or id2label behind the same paths may have changed (inputs_sha256 " +
           pair(short_hash(a.inputs_sha256), short_hash(b.inputs_sha256), al, bl) + ")";
  if (a.metrics != b.metrics)
    return fmt::format("scores different metrics ({})",
                       pair(fmt::format("{}", fmt::join(a.metrics, ",")), fmt::format("{}", fmt::join(b.metrics, ",")), al, bl));
  if (a.n_layers != b.n_layers || a.n_heads != b.n_heads)
    return "holds a different mask set (" +
           pair(fmt::format("{} x {} heads", a.n_layers, a.n_heads), fmt::format("{} x {} heads", b.n_layers, b.n_heads), al,
                bl) +
           ")";
  if (a.mask_names.size() != b.mask_names.size())
    return "holds a different mask set (" +
           pair(fmt::format("{} masks", a.mask_names.size()), fmt::format("{} masks", b.mask_names.size()), al, bl) + ")";
  const size_t lh = static_cast<size_t>(a.n_layers) * static_cast<size_t>(a.n_heads);
  for (size_t n = 0; n < a.mask_names.size(); ++n) {
    if (a.mask_names[n] != b.mask_names[n])
      return fmt::format("holds a different mask set (mask {} is {})", n, pair(a.mask_names[n], b.mask_names[n], al, bl));
    const bool same_gates = a.masks.size() == b.masks.size() && a.masks.size() >= (n + 1) * lh &&
                            std::equal(a.masks.begin() + n * lh, a.masks.begin() + (n + 1) * lh, b.masks.begin() + n * lh);
    if (!same_gates)
      return fmt::format("holds a different mask set (mask {} {} has different gates)", n, a.mask_names[n]);
  }
  if (a.rows.size() != b.rows.size() || a.labels.size() != b.labels.size())
    return "holds different examples (" +
           pair(fmt::format("{} examples", a.rows.size()), fmt::format("{} examples", b.rows.size()), al, bl) + ")";
  for (size_t i = 0; i < a.rows.size(); ++i) {
    // Labels are compared exactly: both sides parsed the same text the same way.
    if (a.rows[i] != b.rows[i] || !(a.labels[i] == b.labels[i]))
      return fmt::format("holds different examples (example {} is {})", i,
                         pair(fmt::format("row {} with label {}", a.rows[i], a.labels[i]),
                              fmt::format("row {} with label {}", b.rows[i], b.labels[i]), al, bl));
  }
  return "";
}

}  // namespace hs::io
