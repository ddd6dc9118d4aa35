#include "io/results.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "io/h5_util.h"
#include "io/results_schema.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace hs::io {

struct ResultsWriter::Impl {
  std::string path;
  H5Handle file;
  H5Handle masks_done;
  H5Handle predictions;
  std::map<std::string, H5Handle> scores;
  std::vector<std::string> metrics;
  std::vector<uint8_t> done;
  int64_t n_masks = 0;
  int64_t n_examples = 0;
  bool finished = false;

  ~Impl() {
    H5Quiet quiet;
    masks_done.reset();
    predictions.reset();
    scores.clear();
    file.reset();  // last: HDF5 keeps a file open while any of its objects is
  }

  void flush() {
    if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0) h5_fail(path, "cannot flush the results file");
  }
};

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void check_shapes(const ResultsHeader& h, const std::vector<uint8_t>& masks,
                  const std::vector<std::string>& names, const std::vector<double>& labels,
                  const std::vector<int64_t>& rows) {
  const size_t lh = static_cast<size_t>(h.n_layers) * static_cast<size_t>(h.n_heads);
  if (h.n_layers <= 0 || h.n_heads <= 0)
    throw std::invalid_argument(fmt::format("results: n_layers {} and n_heads {} must be positive",
                                            h.n_layers, h.n_heads));
  if (masks.size() != names.size() * lh)
    throw std::invalid_argument(fmt::format("results: {} mask values for {} masks of {} x {} heads",
                                            masks.size(), names.size(), h.n_layers, h.n_heads));
  if (labels.size() != rows.size())
    throw std::invalid_argument(fmt::format("results: {} labels but {} rows", labels.size(), rows.size()));
  if (h.metrics.empty()) throw std::invalid_argument("results: no metrics");
  for (size_t i = 0; i < h.metrics.size(); ++i) {
    const std::string& m = h.metrics[i];
    if (m.empty() || m.find('/') != std::string::npos || m == "." || m == "..")
      throw std::invalid_argument("results: bad metric name \"" + m + "\"");
    if (std::find(h.metrics.begin(), h.metrics.begin() + i, m) != h.metrics.begin() + i)
      throw std::invalid_argument("results: metric \"" + m + "\" listed twice");
  }
}

// The user-facing checks, before HDF5 touches anything.
void prepare_path(const std::string& path, bool overwrite) {
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (fs::is_directory(st)) input_error("{}: is a folder, not a results file name", path);
  if (fs::exists(st) && !overwrite)
    input_error("{} exists (set output.overwrite: true to replace it)", path);
  const fs::path parent = fs::path(path).parent_path();
  if (parent.empty()) return;
  for (fs::path p = parent; !p.empty(); p = p.parent_path()) {
    const auto pst = fs::status(p, ec);
    if (fs::exists(pst)) {
      if (!fs::is_directory(pst))
        input_error("{}: cannot create the results file: {} is not a folder", path, p.string());
      break;
    }
    if (p == p.parent_path()) break;
  }
  fs::create_directories(parent, ec);
  if (ec) input_error("{}: cannot create folder {}: {}", path, parent.string(), ec.message());
}

// HDF5's innermost message for a failed open says e.g. "... error message = 'Permission denied'
// ..."; the quoted part is all a user needs.
std::string open_failure_reason() {
  const std::string detail = h5_error_detail();
  const std::string tag = "error message = '";
  const size_t at = detail.find(tag);
  if (at != std::string::npos) {
    const size_t end = detail.find('\'', at + tag.size());
    if (end != std::string::npos) return detail.substr(at + tag.size(), end - at - tag.size());
  }
  return detail.empty() ? "unknown HDF5 error" : detail;
}

void write_layout(ResultsWriter::Impl& w, const ResultsHeader& h, const std::vector<uint8_t>& masks,
                  const std::vector<std::string>& names, const std::vector<double>& labels,
                  const std::vector<int64_t>& rows) {
  const hid_t root = w.file.get();
  const hsize_t N = static_cast<hsize_t>(w.n_masks);
  const hsize_t B = static_cast<hsize_t>(w.n_examples);
  const hsize_t L = static_cast<hsize_t>(h.n_layers);
  const hsize_t H = static_cast<hsize_t>(h.n_heads);

  write_attr(root, "schema_version", kResultsSchemaVersion);
  write_attr(root, "tool", schema::kTool);
  write_attr(root, "tool_version", h.tool_version);
  write_attr(root, "config", h.config_yaml);
  write_attr(root, "model_path", h.model_path);
  write_attr(root, "model_id", h.model_id);
  write_attr(root, "model_sha256", h.model_sha256);
  write_attr(root, "task", h.task);
  write_attr(root, "split", h.split);
  write_attr(root, "n_examples", w.n_examples);
  write_attr(root, "n_layers", static_cast<int64_t>(h.n_layers));
  write_attr(root, "n_heads", static_cast<int64_t>(h.n_heads));
  write_attr(root, "metrics", h.metrics);
  write_attr(root, "strategy", h.strategy);
  write_attr(root, "created", utc_now());
  write_attr(root, "complete", int64_t{0});

  // Masks are read whole; chunks of about 64 KiB keep them compressible without a huge chunk.
  const hsize_t masks_per_chunk = std::clamp<hsize_t>(65536 / (L * H), 1, std::max<hsize_t>(N, 1));
  H5Handle m = create_dataset(
      root, {schema::kMasks, H5T_STD_U8LE, {N, L, H},
             N > 0 ? std::vector<hsize_t>{masks_per_chunk, L, H} : std::vector<hsize_t>{}, std::nullopt,
             true, "Gate of every head under each mask, (N, L, H): 1 = head kept, 0 = masked."});
  if (N > 0) write_all(m.get(), H5T_NATIVE_UINT8, masks.data());

  H5Handle t = utf8_string_type();
  H5Handle mn = create_dataset(
      root, {schema::kMaskNames, t.get(), {N}, {}, std::nullopt, false,
             "Name of each mask, (N): \"baseline\", \"-L3.H7\" (head 7 of layer 3 masked), \"-L2\" "
             "(layer 2 masked), ..."});
  write_strings(mn.get(), names);

  w.masks_done = create_dataset(
      root, {schema::kMasksDone, H5T_STD_U8LE, {N}, {}, std::nullopt, false,
             "1 once the mask's scores and predictions are written, (N); rows with 0 are NaN."});
  w.done.assign(N, 0);
  if (N > 0) write_all(w.masks_done.get(), H5T_NATIVE_UINT8, w.done.data());

  H5Handle scores = create_group(root, schema::kScores,
                                 "One (N) float64 dataset per metric, named after it; NaN until written.");
  const std::vector<double> nans(N, kNaN);
  for (size_t i = 0; i < h.metrics.size(); ++i) {
    const std::string& metric = h.metrics[i];
    H5Handle d = create_dataset(
        scores.get(), {metric, H5T_IEEE_F64LE, {N}, {}, std::nullopt, false,
                       fmt::format("Metric {} of each mask on the whole split, (N){}; NaN until "
                                   "written.",
                                   metric, i == 0 ? " (the primary metric)" : "")});
    if (N > 0) write_all(d.get(), H5T_NATIVE_DOUBLE, nans.data());
    w.scores.emplace(metric, std::move(d));
  }

  // One chunk per mask row: writing a row touches one chunk, and rows never written cost no space
  // and read as the NaN fill value.
  const bool chunked = N > 0 && B > 0;
  w.predictions = create_dataset(
      root, {schema::kPredictions, H5T_IEEE_F32LE, {N, B},
             chunked ? std::vector<hsize_t>{1, B} : std::vector<hsize_t>{}, kNaN, true,
             "Output per mask and example, (N, B): the class index (classification), the score "
             "(regression) or the cosine of the two sentence embeddings (similarity); NaN until "
             "written."});

  H5Handle ex = create_group(root, schema::kExamples, "The scored examples, in column order of /predictions.");
  H5Handle label = create_dataset(
      root, {schema::kLabel, H5T_IEEE_F64LE, {B}, {}, std::nullopt, false,
             "Gold label of each example, (B): the class index, or the score for regression."});
  if (B > 0) write_all(label.get(), H5T_NATIVE_DOUBLE, labels.data());
  H5Handle row = create_dataset(
      root, {schema::kRow, H5T_STD_I64LE, {B}, {}, std::nullopt, false,
             "Row of each example in the split's TSV file, (B): 0 = the first data row after the "
             "header."});
  if (B > 0) write_all(row.get(), H5T_NATIVE_INT64, rows.data());
}

}  // namespace

ResultsWriter::ResultsWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ResultsWriter::ResultsWriter(ResultsWriter&&) noexcept = default;
ResultsWriter& ResultsWriter::operator=(ResultsWriter&&) noexcept = default;

ResultsWriter::~ResultsWriter() = default;

ResultsWriter ResultsWriter::create(const std::string& path, const ResultsHeader& header,
                                    const std::vector<uint8_t>& masks,
                                    const std::vector<std::string>& mask_names,
                                    const std::vector<double>& labels,
                                    const std::vector<int64_t>& rows, bool overwrite) {
  check_shapes(header, masks, mask_names, labels, rows);
  prepare_path(path, overwrite);
  H5Quiet quiet;
  auto w = std::make_unique<Impl>();
  w->path = path;
  w->metrics = header.metrics;
  w->n_masks = static_cast<int64_t>(mask_names.size());
  w->n_examples = static_cast<int64_t>(labels.size());
  w->file = H5Handle(H5Fcreate(path.c_str(), overwrite ? H5F_ACC_TRUNC : H5F_ACC_EXCL, H5P_DEFAULT,
                               H5P_DEFAULT));
  if (!w->file.valid()) input_error("{}: cannot create the results file: {}", path, open_failure_reason());
  try {
    write_layout(*w, header, masks, mask_names, labels, rows);
    w->flush();
  } catch (...) {
    // A half-built file would look like a results file; leave nothing behind.
    w.reset();
    std::error_code ec;
    fs::remove(path, ec);
    throw;
  }
  return ResultsWriter(std::move(w));
}

void ResultsWriter::write_mask(int64_t n, const std::map<std::string, double>& scores,
                               const std::vector<float>& predictions) {
  Impl& w = *impl_;
  if (w.finished) throw std::logic_error("results: write_mask after finish");
  if (n < 0 || n >= w.n_masks)
    throw std::out_of_range(fmt::format("results: mask {} of {}", n, w.n_masks));
  if (static_cast<int64_t>(predictions.size()) != w.n_examples)
    throw std::invalid_argument(fmt::format("results: {} predictions for {} examples",
                                            predictions.size(), w.n_examples));
  if (scores.size() != w.metrics.size())
    throw std::invalid_argument(fmt::format("results: {} scores for {} metrics", scores.size(),
                                            w.metrics.size()));
  for (const auto& [name, value] : scores)
    if (!w.scores.count(name)) throw std::invalid_argument("results: unknown metric " + name);

  H5Quiet quiet;
  const hsize_t row = static_cast<hsize_t>(n);
  if (w.n_examples > 0)
    write_block(w.predictions.get(), H5T_NATIVE_FLOAT, {row, 0},
                {1, static_cast<hsize_t>(w.n_examples)}, predictions.data());
  for (const auto& [name, value] : scores)
    write_block(w.scores.at(name).get(), H5T_NATIVE_DOUBLE, {row}, {1}, &value);
  // Last, so that a row marked done is a row fully written.
  const uint8_t one = 1;
  write_block(w.masks_done.get(), H5T_NATIVE_UINT8, {row}, {1}, &one);
  w.flush();
  w.done[n] = 1;
}

void ResultsWriter::finish() {
  Impl& w = *impl_;
  if (w.finished) return;
  H5Quiet quiet;
  update_attr(w.file.get(), "complete", 1);
  w.flush();
  w.finished = true;
}

const std::string& ResultsWriter::path() const { return impl_->path; }
int64_t ResultsWriter::n_masks() const { return impl_->n_masks; }
int64_t ResultsWriter::n_examples() const { return impl_->n_examples; }
bool ResultsWriter::mask_done(int64_t n) const {
  return n >= 0 && n < impl_->n_masks && impl_->done[n] != 0;
}

}  // namespace hs::io
