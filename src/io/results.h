#pragma once
// Writes a results file (schema: docs/hdf5-schema.md). The layout is created in full up front,
// then each mask's scores and predictions land as they finish, each followed by a flush, so a run
// that is killed loses at most the mask in flight and masks_done says which rows are valid.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace hs::io {

inline constexpr int64_t kResultsSchemaVersion = 1;

// What the root attributes say about the run.
struct ResultsHeader {
  std::string tool_version;
  std::string config_yaml;  // dump_config() of the plan
  std::string model_path;
  std::string model_id;      // e.g. config.json's _name_or_path, or the folder name
  std::string model_sha256;  // of model.safetensors, lowercase hex
  std::string task;
  std::string split;
  std::string strategy;
  int n_layers = 0;
  int n_heads = 0;
  std::vector<std::string> metrics;  // primary first
};

class ResultsWriter {
 public:
  // Creates `path` (and missing parent folders) with every dataset in place: masks and names
  // written, scores and predictions NaN, masks_done 0, complete 0.
  //   masks:      (N, L, H) row-major, 1 = head kept; N = mask_names.size()
  //   labels:     (B) gold label per example (class index, or the regression score)
  //   rows:       (B) the example's row in the split's TSV
  // Throws InputError when `path` exists and !overwrite, or cannot be created; std::invalid_argument
  // when the shapes disagree.
  static ResultsWriter create(const std::string& path, const ResultsHeader& header,
                              const std::vector<uint8_t>& masks,
                              const std::vector<std::string>& mask_names,
                              const std::vector<double>& labels, const std::vector<int64_t>& rows,
                              bool overwrite);

  ResultsWriter(ResultsWriter&&) noexcept;
  ResultsWriter& operator=(ResultsWriter&&) noexcept;
  ~ResultsWriter();  // closes the file; complete stays 0 unless finish() ran

  // Stores mask n's scores (one per header metric, exactly) and predictions (B), sets
  // masks_done[n] = 1 and flushes the file.
  void write_mask(int64_t n, const std::map<std::string, double>& scores,
                  const std::vector<float>& predictions);
  // Sets complete = 1 (the run ended normally) and flushes. Masks never written stay NaN with
  // masks_done 0: a shard or a limited run need not score every row.
  void finish();

  const std::string& path() const;
  int64_t n_masks() const;
  int64_t n_examples() const;
  bool mask_done(int64_t n) const;

  struct Impl;  // defined in the .cpp; named here so its helpers can take it

 private:
  explicit ResultsWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hs::io
