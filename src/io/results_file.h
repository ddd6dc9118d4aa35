#pragma once
// Reads a results file written by ResultsWriter (docs/hdf5-schema.md), for the CLI and tests.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/results.h"

namespace hs::io {

struct ResultsInfo {
  ResultsHeader header;
  int64_t schema_version = 0;
  std::string tool;
  std::string created;  // ISO-8601 UTC
  std::string config_sha256;  // "" in files written before the attribute existed
  int64_t n_masks = 0;
  int64_t n_examples = 0;
  bool complete = false;
};

class ResultsFile {
 public:
  // Throws InputError when `path` is missing, not HDF5, not a headsweep results file, or written
  // by a newer schema.
  static ResultsFile open(const std::string& path);

  ResultsFile(ResultsFile&&) noexcept;
  ResultsFile& operator=(ResultsFile&&) noexcept;
  ~ResultsFile();

  const ResultsInfo& info() const;
  std::vector<uint8_t> masks() const;  // (N, L, H)
  std::vector<std::string> mask_names() const;  // (N)
  std::vector<uint8_t> masks_done() const;  // (N)
  std::vector<double> scores(const std::string& metric) const;  // (N), NaN where not written
  std::vector<float> predictions(int64_t n) const;  // (B) of mask n
  std::vector<double> labels() const;  // (B)
  std::vector<int64_t> rows() const;   // (B)
  // One metric's /bootstrap datasets; nullopt when the file has none (stats.bootstrap: 0, or an
  // older file). The settings are in info().header.bootstrap_*.
  std::optional<BootstrapColumns> bootstrap(const std::string& metric) const;

  struct Impl;  // defined in the .cpp; named here so its helpers can take it

 private:
  explicit ResultsFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hs::io
