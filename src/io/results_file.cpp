#include "io/results_file.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "io/h5_util.h"
#include "io/results_schema.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace hs::io {

struct ResultsFile::Impl {
  std::string path;
  H5Handle file;
  ResultsInfo info;

  ~Impl() {
    H5Quiet quiet;
    file.reset();
  }

  template <class T>
  std::vector<T> read_vector(const char* name, hid_t mem_type) const {
    H5Quiet quiet;
    H5Handle d = open_dataset(file.get(), name);
    size_t n = 1;
    for (hsize_t dim : dataset_dims(d.get())) n *= dim;
    std::vector<T> out(n);
    if (n > 0) read_all(d.get(), mem_type, out.data());
    return out;
  }
};

namespace {

void read_info(ResultsFile::Impl& r) {
  const hid_t root = r.file.get();
  ResultsInfo& i = r.info;
  ResultsHeader& h = i.header;
  i.schema_version = read_attr_int(root, "schema_version");
  if (i.schema_version > kResultsSchemaVersion)
    input_error("{}: results schema version {} is newer than this headsweep reads ({}); update "
                "headsweep",
                r.path, i.schema_version, kResultsSchemaVersion);
  i.tool = read_attr_string(root, "tool");
  i.created = read_attr_string(root, "created");
  i.n_examples = read_attr_int(root, "n_examples");
  i.complete = read_attr_int(root, "complete") != 0;
  h.tool_version = read_attr_string(root, "tool_version");
  h.config_yaml = read_attr_string(root, "config");
  h.model_path = read_attr_string(root, "model_path");
  h.model_id = read_attr_string(root, "model_id");
  h.model_sha256 = read_attr_string(root, "model_sha256");
  h.task = read_attr_string(root, "task");
  h.split = read_attr_string(root, "split");
  h.strategy = read_attr_string(root, "strategy");
  h.n_layers = static_cast<int>(read_attr_int(root, "n_layers"));
  h.n_heads = static_cast<int>(read_attr_int(root, "n_heads"));
  h.metrics = read_attr_strings(root, "metrics");
  // Optional attributes (docs/hdf5-schema.md): config_sha256 is absent from files written before it
  // existed, shard_* from unsharded files, merged_from from unmerged ones.
  if (has_attr(root, "config_sha256")) i.config_sha256 = read_attr_string(root, "config_sha256");
  if (has_attr(root, "shard_count")) {
    h.shard_count = static_cast<int>(read_attr_int(root, "shard_count"));
    h.shard_index = static_cast<int>(read_attr_int(root, "shard_index"));
  }
  if (has_attr(root, "merged_from")) h.merged_from = read_attr_strings(root, "merged_from");
  H5Handle masks = open_dataset(root, schema::kMasks);
  const auto dims = dataset_dims(masks.get());
  if (dims.size() != 3 || dims[1] != static_cast<hsize_t>(h.n_layers) ||
      dims[2] != static_cast<hsize_t>(h.n_heads))
    input_error("{}: /masks is not (N, n_layers, n_heads)", r.path);
  i.n_masks = static_cast<int64_t>(dims[0]);
}

}  // namespace

ResultsFile::ResultsFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ResultsFile::ResultsFile(ResultsFile&&) noexcept = default;
ResultsFile& ResultsFile::operator=(ResultsFile&&) noexcept = default;
ResultsFile::~ResultsFile() = default;

ResultsFile ResultsFile::open(const std::string& path) {
  H5Quiet quiet;
  auto r = std::make_unique<Impl>();
  r->path = path;
  r->file = open_read_only(path, "a results file");
  const hid_t root = r->file.get();
  if (!has_attr(root, "schema_version") || !has_attr(root, "tool"))
    input_error("{}: not a headsweep results file (no schema_version attribute)", path);
  try {
    read_info(*r);
  } catch (const std::runtime_error& e) {
    if (dynamic_cast<const InputError*>(&e)) throw;
    // A file with the right marker but a missing piece is damaged input, not a bug.
    input_error("{}: damaged results file: {}", path, e.what());
  }
  return ResultsFile(std::move(r));
}

const ResultsInfo& ResultsFile::info() const { return impl_->info; }

std::vector<uint8_t> ResultsFile::masks() const {
  return impl_->read_vector<uint8_t>(schema::kMasks, H5T_NATIVE_UINT8);
}
std::vector<std::string> ResultsFile::mask_names() const {
  H5Quiet quiet;
  H5Handle d = open_dataset(impl_->file.get(), schema::kMaskNames);
  return read_strings(d.get());
}
std::vector<uint8_t> ResultsFile::masks_done() const {
  return impl_->read_vector<uint8_t>(schema::kMasksDone, H5T_NATIVE_UINT8);
}
std::vector<double> ResultsFile::scores(const std::string& metric) const {
  const auto& m = impl_->info.header.metrics;
  if (std::find(m.begin(), m.end(), metric) == m.end())
    input_error("{}: no metric {} (the file has {})", impl_->path, metric, fmt::join(m, ", "));
  const std::string name = std::string(schema::kScores) + "/" + metric;
  return impl_->read_vector<double>(name.c_str(), H5T_NATIVE_DOUBLE);
}
std::vector<float> ResultsFile::predictions(int64_t n) const {
  if (n < 0 || n >= impl_->info.n_masks)
    throw std::out_of_range("results: mask " + std::to_string(n) + " of " +
                            std::to_string(impl_->info.n_masks));
  H5Quiet quiet;
  H5Handle d = open_dataset(impl_->file.get(), schema::kPredictions);
  const hsize_t B = static_cast<hsize_t>(impl_->info.n_examples);
  std::vector<float> out(B);
  if (B > 0) read_block(d.get(), H5T_NATIVE_FLOAT, {static_cast<hsize_t>(n), 0}, {1, B}, out.data());
  return out;
}
std::vector<double> ResultsFile::labels() const {
  return impl_->read_vector<double>(schema::kLabel, H5T_NATIVE_DOUBLE);
}
std::vector<int64_t> ResultsFile::rows() const {
  return impl_->read_vector<int64_t>(schema::kRow, H5T_NATIVE_INT64);
}

}  // namespace hs::io
