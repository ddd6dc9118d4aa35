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
    std::vector<T> out(dataset_values(dataset_dims(d.get())));
    const size_t n = out.size();
    if (n > 0) read_all(d.get(), mem_type, out.data());
    return out;
  }
};

namespace {

// A dataset read whole, as T (mem_type) in row-major order.
template <class T>
std::vector<T> read_whole(hid_t loc, const std::string& name, hid_t mem_type) {
  H5Handle d = open_dataset(loc, name);
  std::vector<T> out(dataset_values(dataset_dims(d.get())));
  const size_t n = out.size();
  if (n > 0) read_all(d.get(), mem_type, out.data());
  return out;
}

std::vector<double> read_doubles(hid_t loc, const std::string& name) {
  return read_whole<double>(loc, name, H5T_NATIVE_DOUBLE);
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::vector<std::string> member_names(hid_t group) {
  H5G_info_t info{};
  if (H5Gget_info(group, &info) < 0) return {};
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t len = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    std::string name(static_cast<size_t>(std::max<ssize_t>(0, len)), '\0');
    H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size() + 1, H5P_DEFAULT);
    names.push_back(name);
  }
  return names;
}

// The gradient importances (every /importance/<method> with a <method>_raw beside it) and whether the
// file has the ablation dataset.
void read_importance(ResultsFile::Impl& r) {
  H5Handle g(H5Gopen2(r.file.get(), schema::kImportance, H5P_DEFAULT));
  if (!g.valid()) input_error("{}: /{} is not a group", r.path, schema::kImportance);
  const std::vector<std::string> names = member_names(g.get());
  ResultsHeader& h = r.info.header;
  for (const std::string& name : names) {
    if (name == "ablation") {
      h.ablation = true;
      continue;
    }
    if (ends_with(name, "_raw") || ends_with(name, "_vs_ablation")) continue;
    if (std::find(names.begin(), names.end(), name + "_raw") == names.end()) continue;
    HeadImportance i;
    i.method = name;
    i.scores = read_doubles(g.get(), name);
    i.raw = read_doubles(g.get(), name + "_raw");
    H5Handle d = open_dataset(g.get(), name);
    i.split = read_attr_string(d.get(), "split");
    i.examples = read_attr_int(d.get(), "examples");
    i.tokens = read_attr_int(d.get(), "tokens");
    i.mean_loss = read_attr_double(d.get(), "mean_loss");
    i.normalized = read_attr_int(d.get(), "normalized") != 0;
    h.importance.push_back(std::move(i));
  }
}

void read_attention(ResultsFile::Impl& r) {
  H5Handle g(H5Gopen2(r.file.get(), schema::kAttention, H5P_DEFAULT));
  if (!g.valid()) input_error("{}: /{} is not a group", r.path, schema::kAttention);
  ResultsHeader& h = r.info.header;
  h.attention_tokens = read_attr_int(g.get(), "tokens");
  for (const std::string& name : member_names(g.get())) {
    H5Handle d = open_dataset(g.get(), name);
    h.attention.push_back({name, read_attr_string(d.get(), "description"), read_doubles(g.get(), name)});
  }
}

std::vector<int64_t> read_int64s(hid_t loc, const std::string& name) {
  return read_whole<int64_t>(loc, name, H5T_NATIVE_INT64);
}

void read_pruning(ResultsFile::Impl& r) {
  H5Handle g(H5Gopen2(r.file.get(), schema::kPruning, H5P_DEFAULT));
  if (!g.valid()) input_error("{}: /{} is not a group", r.path, schema::kPruning);
  ResultsHeader& h = r.info.header;
  h.pruning_schedule = read_attr_string(g.get(), "schedule");
  h.pruning_tolerance = read_attr_double(g.get(), "tolerance");
  h.pruning_alpha = read_attr_double(g.get(), "alpha");
  for (const std::string& name : member_names(g.get())) {
    PruningRecord c;
    c.name = name;
    c.fractions = read_doubles(g.get(), name + "/fraction");
    c.heads_pruned = read_int64s(g.get(), name + "/heads_pruned");
    c.mask_index = read_int64s(g.get(), name + "/mask");
    h.pruning.push_back(std::move(c));
  }
}

const char* kind_text(H5T_class_t c) {
  switch (c) {
    case H5T_INTEGER: return "integers";
    case H5T_FLOAT: return "floating-point numbers";
    case H5T_STRING: return "strings";
    default: return "another kind of data";
  }
}

// Dataset `name` has shape `want` and holds `kind`; std::runtime_error saying what differs
// otherwise (ResultsFile::open reports it as a damaged file). Readers rely on it: merge and resume
// read whole rows and columns by the header's N and B.
void expect_dataset(hid_t loc, const std::string& name, const std::vector<hsize_t>& want, H5T_class_t kind) {
  H5Handle d = open_dataset(loc, name);
  const std::vector<hsize_t> dims = dataset_dims(d.get());
  if (dims != want)
    throw std::runtime_error(fmt::format("/{} has shape {}, expected {}", name, shape_text(dims), shape_text(want)));
  H5Handle type(H5Dget_type(d.get()));
  const H5T_class_t got = type.valid() ? H5Tget_class(type.get()) : H5T_NO_CLASS;
  if (got != kind) throw std::runtime_error(fmt::format("/{} holds {}, expected {}", name, kind_text(got), kind_text(kind)));
}

// Every dataset the header sizes: N masks, B examples, L x H heads.
void check_layout(const ResultsFile::Impl& r) {
  const hid_t root = r.file.get();
  const ResultsHeader& h = r.info.header;
  const auto N = static_cast<hsize_t>(r.info.n_masks), B = static_cast<hsize_t>(r.info.n_examples);
  const auto L = static_cast<hsize_t>(h.n_layers), H = static_cast<hsize_t>(h.n_heads);
  expect_dataset(root, schema::kMasks, {N, L, H}, H5T_INTEGER);
  expect_dataset(root, schema::kMaskNames, {N}, H5T_STRING);
  expect_dataset(root, schema::kMasksDone, {N}, H5T_INTEGER);
  expect_dataset(root, schema::kPredictions, {N, B}, H5T_FLOAT);
  expect_dataset(root, schema::kLabel, {B}, H5T_FLOAT);
  expect_dataset(root, schema::kRow, {B}, H5T_INTEGER);
  for (const std::string& m : h.metrics) expect_dataset(root, std::string(schema::kScores) + "/" + m, {N}, H5T_FLOAT);
  if (h.bootstrap_resamples > 0) {
    for (const std::string& m : h.metrics) {
      const std::string base = std::string(schema::kBootstrap) + "/" + m;
      expect_dataset(root, base + "_ci", {N, 2}, H5T_FLOAT);
      expect_dataset(root, base + "_delta_ci", {N, 2}, H5T_FLOAT);
      expect_dataset(root, base + "_delta_p", {N}, H5T_FLOAT);
    }
  }
  for (const HeadImportance& i : h.importance) {
    if (i.scores.size() != L * H || i.raw.size() != L * H)
      throw std::runtime_error(fmt::format("/{}/{} holds {} values, expected L x H = {}", schema::kImportance, i.method,
                                           std::min(i.scores.size(), i.raw.size()), L * H));
  }
  for (const auto& a : h.attention) {
    if (a.values.size() != L * H)
      throw std::runtime_error(fmt::format("/{}/{} holds {} values, expected L x H = {}", schema::kAttention, a.name,
                                           a.values.size(), L * H));
  }
  for (const PruningRecord& c : h.pruning) {
    if (c.heads_pruned.size() != c.fractions.size() || c.mask_index.size() != c.fractions.size())
      throw std::runtime_error(fmt::format("/{}/{}: fraction, heads_pruned and mask differ in length", schema::kPruning,
                                           c.name));
    for (int64_t m : c.mask_index) {
      if (m < 0 || static_cast<hsize_t>(m) >= N)
        throw std::runtime_error(fmt::format("/{}/{}/mask holds {}, not a mask of the {}", schema::kPruning, c.name, m, N));
    }
  }
}

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
  const int64_t complete = read_attr_int(root, "complete");
  if (complete != 0 && complete != 1) input_error("{}: attribute complete is {}, expected 0 or 1", r.path, complete);
  i.complete = complete == 1;
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
  // Optional attributes (docs/hdf5-schema.md): config_sha256, inputs_sha256 and device_name are
  // absent from files written before they existed, shard_* from unsharded files, merged_from from
  // unmerged ones.
  if (has_attr(root, "config_sha256")) i.config_sha256 = read_attr_string(root, "config_sha256");
  if (has_attr(root, "inputs_sha256")) h.inputs_sha256 = read_attr_string(root, "inputs_sha256");
  if (has_attr(root, "device_name")) h.device_name = read_attr_string(root, "device_name");
  if (has_attr(root, "shard_count")) {
    h.shard_count = static_cast<int>(read_attr_int(root, "shard_count"));
    h.shard_index = static_cast<int>(read_attr_int(root, "shard_index"));
  }
  if (has_attr(root, "merged_from")) h.merged_from = read_attr_strings(root, "merged_from");
  if (has_link(root, schema::kBootstrap)) {
    H5Handle bs(H5Gopen2(root, schema::kBootstrap, H5P_DEFAULT));
    if (!bs.valid()) input_error("{}: /{} is not a group", r.path, schema::kBootstrap);
    h.bootstrap_resamples = read_attr_int(bs.get(), "resamples");
    h.bootstrap_confidence = read_attr_double(bs.get(), "confidence");
    h.bootstrap_seed = read_attr_int(bs.get(), "seed");
  }
  if (has_link(root, schema::kImportance)) read_importance(r);
  if (has_link(root, schema::kAttention)) read_attention(r);
  if (has_link(root, schema::kPruning)) read_pruning(r);
  H5Handle masks = open_dataset(root, schema::kMasks);
  const auto dims = dataset_dims(masks.get());
  if (dims.size() != 3 || dims[1] != static_cast<hsize_t>(h.n_layers) ||
      dims[2] != static_cast<hsize_t>(h.n_heads))
    input_error("{}: /masks is not (N, n_layers, n_heads)", r.path);
  i.n_masks = static_cast<int64_t>(dims[0]);
  // Readers size whole columns by N and B, and /masks by N·L·H.
  try {
    dataset_values(dims);
    if (i.n_examples < 0) throw std::runtime_error(fmt::format("{} examples", i.n_examples));
    dataset_values({static_cast<hsize_t>(i.n_examples)});
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(fmt::format("/masks and n_examples: {}", e.what()));
  }
  check_layout(r);
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
    // A file with the right marker but a missing or misshapen piece is damaged input, not a bug.
    std::string why = e.what();
    if (why.rfind(path + ": ", 0) == 0) why.erase(0, path.size() + 2);  // HDF5 helpers name the file too
    input_error("{}: damaged results file: {}", path, why);
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
std::optional<BootstrapColumns> ResultsFile::bootstrap(const std::string& metric) const {
  const auto& m = impl_->info.header.metrics;
  if (std::find(m.begin(), m.end(), metric) == m.end())
    input_error("{}: no metric {} (the file has {})", impl_->path, metric, fmt::join(m, ", "));
  if (impl_->info.header.bootstrap_resamples <= 0) return std::nullopt;
  const std::string base = std::string(schema::kBootstrap) + "/" + metric;
  BootstrapColumns c;
  c.ci = impl_->read_vector<double>((base + "_ci").c_str(), H5T_NATIVE_DOUBLE);
  c.delta_ci = impl_->read_vector<double>((base + "_delta_ci").c_str(), H5T_NATIVE_DOUBLE);
  c.p_value = impl_->read_vector<double>((base + "_delta_p").c_str(), H5T_NATIVE_DOUBLE);
  return c;
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
