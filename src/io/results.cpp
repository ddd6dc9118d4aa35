#include "io/results.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "io/h5_read.h"
#include "io/h5_util.h"
#include "io/results_identity.h"
#include "io/results_schema.h"
#include "util/error.h"
#include "util/paths.h"

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
  bool durable = true;
  double commit_interval_s = 0;
  std::vector<int64_t> pending;  // rows written whose masks_done flag is not set yet
  std::chrono::steady_clock::time_point last_commit = std::chrono::steady_clock::now();

  ~Impl() {
    H5Quiet quiet;
    // A writer left unfinished (an exception unwinding the run) still keeps the rows it wrote.
    try {
      if (!finished && durable) commit();
    } catch (...) {
    }
    masks_done.reset();
    predictions.reset();
    scores.clear();
    file.reset();  // last: HDF5 keeps a file open while any of its objects is
  }

  void flush() {
    if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0) h5_fail(path, "cannot flush the results file");
  }

  // Flush, then fsync: kill -9 only needs the flush (the data is then in the kernel), a node that
  // crashes or loses power needs the fsync too.
  void sync() {
    flush();
    void* handle = nullptr;
    if (H5Fget_vfd_handle(file.get(), H5P_DEFAULT, &handle) < 0 || handle == nullptr)
      h5_fail(path, "cannot get the results file's descriptor");
    if (::fsync(*static_cast<int*>(handle)) != 0)
      throw std::runtime_error(fmt::format("{}: fsync failed: {}", path, std::strerror(errno)));
  }

  // Every pending row reaches the file (and the disk) before its flag: HDF5 writes one flush's
  // buffered raw data in no particular order, so a flag flushed with its row could land first.
  void commit() {
    if (pending.empty()) return;
    sync();
    const uint8_t one = 1;
    for (int64_t n : pending) write_block(masks_done.get(), H5T_NATIVE_UINT8, {static_cast<hsize_t>(n)}, {1}, &one);
    sync();
    pending.clear();
    last_commit = std::chrono::steady_clock::now();
  }

  void open_datasets() {
    masks_done = open_dataset(file.get(), schema::kMasksDone);
    predictions = open_dataset(file.get(), schema::kPredictions);
    for (const std::string& m : metrics) scores.emplace(m, open_dataset(file.get(), std::string(schema::kScores) + "/" + m));
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
  const auto st = path_status(path);
  if (fs::is_directory(st)) input_error("{}: is a folder, not a results file name", path);
  if (!path.empty() && path.back() == '/') input_error("{}: ends in /: a folder name, not a results file name", path);
  refuse_special_file(path);
  if (fs::exists(st) && !overwrite)
    input_error("{} exists (set output.overwrite: true to replace it)", path);
  // The config, a data file, a mask list: overwrite replaces results files only.
  if (overwrite && fs::is_regular_file(st) && !is_hdf5_file(path))
    input_error("{} is not a results file (HDF5), so output.overwrite does not replace it; delete it first if it "
                "should go",
                path);
  create_parent_folders(path);
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

// Writes NaN into the /predictions rows listed, which allocates their chunks now (and, rows being
// whole chunks, fixes their addresses), so that scoring them later overwrites raw data only.
void allocate_rows(hid_t predictions, hsize_t N, hsize_t B, std::vector<int64_t> rows) {
  if (N == 0 || B == 0) return;
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  const hsize_t max_rows = std::max<hsize_t>(1, (hsize_t{1} << 22) / B);  // ~16 MiB per write
  std::vector<float> nans;
  for (size_t i = 0; i < rows.size();) {
    if (rows[i] < 0 || static_cast<hsize_t>(rows[i]) >= N)
      throw std::out_of_range(fmt::format("results: row {} to write of {}", rows[i], N));
    size_t j = i + 1;
    while (j < rows.size() && rows[j] == rows[j - 1] + 1 && static_cast<hsize_t>(j - i) < max_rows) ++j;
    const hsize_t count = static_cast<hsize_t>(j - i);
    nans.assign(count * B, std::numeric_limits<float>::quiet_NaN());
    write_block(predictions, H5T_NATIVE_FLOAT, {static_cast<hsize_t>(rows[i]), 0}, {count, B}, nans.data());
    i = j;
  }
}

void write_layout(hid_t root, const ResultsHeader& h, const std::vector<uint8_t>& masks,
                  const std::vector<std::string>& names, const std::vector<double>& labels,
                  const std::vector<int64_t>& rows, const std::optional<std::vector<int64_t>>& rows_to_write) {
  const hsize_t N = static_cast<hsize_t>(names.size());
  const hsize_t B = static_cast<hsize_t>(labels.size());
  const hsize_t L = static_cast<hsize_t>(h.n_layers);
  const hsize_t H = static_cast<hsize_t>(h.n_heads);

  write_attr(root, "schema_version", kResultsSchemaVersion);
  write_attr(root, "tool", schema::kTool);
  write_attr(root, "tool_version", h.tool_version);
  write_attr(root, "config", h.config_yaml);
  write_attr(root, "config_sha256", config_sha256(h.config_yaml));
  write_attr(root, "model_path", h.model_path);
  write_attr(root, "model_id", h.model_id);
  write_attr(root, "model_sha256", h.model_sha256);
  if (!h.inputs_sha256.empty()) write_attr(root, "inputs_sha256", h.inputs_sha256);
  write_attr(root, "task", h.task);
  write_attr(root, "split", h.split);
  write_attr(root, "n_examples", static_cast<int64_t>(B));
  write_attr(root, "n_layers", static_cast<int64_t>(h.n_layers));
  write_attr(root, "n_heads", static_cast<int64_t>(h.n_heads));
  write_attr(root, "metrics", h.metrics);
  write_attr(root, "strategy", h.strategy);
  write_attr(root, "device_name", h.device_name);
  write_attr(root, "created", utc_now());
  write_attr(root, "complete", int64_t{0});
  if (h.shard_count > 0) {
    write_attr(root, "shard_index", static_cast<int64_t>(h.shard_index));
    write_attr(root, "shard_count", static_cast<int64_t>(h.shard_count));
  }
  if (!h.merged_from.empty()) write_attr(root, "merged_from", h.merged_from);

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

  // Contiguous and written in full now, so their storage exists before any mask is scored.
  H5Handle done = create_dataset(
      root, {schema::kMasksDone, H5T_STD_U8LE, {N}, {}, std::nullopt, false,
             "1 once the mask's scores and predictions are written, (N); rows with 0 are NaN."});
  const std::vector<uint8_t> zeros(N, 0);
  if (N > 0) write_all(done.get(), H5T_NATIVE_UINT8, zeros.data());

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
  }

  if (h.bootstrap_resamples > 0) {
    H5Handle bs = create_group(root, schema::kBootstrap,
                               "Paired bootstrap over the examples (every mask scored on the same resamples): per "
                               "metric an interval, the interval of the difference from the baseline and its "
                               "p-value; NaN until every mask is scored.");
    write_attr(bs.get(), "resamples", h.bootstrap_resamples);
    write_attr(bs.get(), "confidence", h.bootstrap_confidence);
    write_attr(bs.get(), "seed", h.bootstrap_seed);
    const std::vector<double> nans2(2 * N, kNaN);
    const int percent = static_cast<int>(std::lround(h.bootstrap_confidence * 100));
    for (const std::string& metric : h.metrics) {
      H5Handle ci = create_dataset(
          bs.get(), {metric + "_ci", H5T_IEEE_F64LE, {N, 2}, {}, std::nullopt, false,
                     fmt::format("{}% percentile interval of {} for each mask, (N, 2): low, high.", percent, metric)});
      H5Handle dci = create_dataset(
          bs.get(), {metric + "_delta_ci", H5T_IEEE_F64LE, {N, 2}, {}, std::nullopt, false,
                     fmt::format("{}% interval of {}(mask) - {}(baseline) on the same resamples, (N, 2).",
                                 percent, metric, metric)});
      H5Handle pv = create_dataset(
          bs.get(), {metric + "_delta_p", H5T_IEEE_F64LE, {N}, {}, std::nullopt, false,
                     fmt::format("Two-sided bootstrap p-value of no difference in {} from the baseline, (N).",
                                 metric)});
      if (N > 0) {
        write_all(ci.get(), H5T_NATIVE_DOUBLE, nans2.data());
        write_all(dci.get(), H5T_NATIVE_DOUBLE, nans2.data());
        write_all(pv.get(), H5T_NATIVE_DOUBLE, nans.data());
      }
    }
  }

  if (!h.importance.empty() || h.ablation) {
    H5Handle imp = create_group(root, schema::kImportance,
                                "Per-head importance, one (L, H) float64 dataset per method; higher = more "
                                "important.");
    for (const HeadImportance& i : h.importance) {
      if (i.scores.size() != L * H || i.raw.size() != L * H)
        throw std::invalid_argument(fmt::format("results: importance {} is not (L, H)", i.method));
      const std::string how =
          i.method == "michel" ? "Michel et al. 2019: per-token |g·dL/dg|, divided by tokens (the last layer of a head that "
                               "reads only [CLS], such as a classifier, by examples)"
                               : "run_bertology.py: |accumulated dL/dg| over batches, divided by tokens";
      H5Handle d = create_dataset(
          imp.get(), {i.method, H5T_IEEE_F64LE, {L, H}, {}, std::nullopt, false,
                      fmt::format("Gradient importance ({}), (L, H){}.", how,
                                  !i.normalized         ? ", not normalised"
                                  : i.method == "michel" ? ", each layer l2-normalised"
                                                         : ", each layer l2-normalised, then min-max over all heads")});
      write_all(d.get(), H5T_NATIVE_DOUBLE, i.scores.data());
      write_attr(d.get(), "split", i.split);
      write_attr(d.get(), "examples", i.examples);
      write_attr(d.get(), "tokens", i.tokens);
      write_attr(d.get(), "mean_loss", i.mean_loss);
      write_attr(d.get(), "normalized", int64_t{i.normalized ? 1 : 0});
      H5Handle r = create_dataset(imp.get(), {i.method + "_raw", H5T_IEEE_F64LE, {L, H}, {}, std::nullopt, false,
                                              fmt::format("Gradient importance ({}) before normalisation, (L, H).",
                                                          i.method)});
      write_all(r.get(), H5T_NATIVE_DOUBLE, i.raw.data());
    }
    if (h.ablation) {
      const std::vector<double> nans_lh(L * H, kNaN);
      H5Handle a = create_dataset(
          root, {schema::kAblation, H5T_IEEE_F64LE, {L, H}, {}, std::nullopt, false,
                 fmt::format("Drop of {} when the head alone is removed (baseline - score of -L{{l}}.H{{h}}), (L, H); "
                             "NaN where the sweep has no such mask, and until every mask is scored.",
                             h.metrics.front())});
      write_all(a.get(), H5T_NATIVE_DOUBLE, nans_lh.data());
      for (const HeadImportance& i : h.importance) {
        const double nan = kNaN;
        H5Handle g = create_dataset(
            imp.get(), {i.method + "_vs_ablation", H5T_IEEE_F64LE, {1}, {}, std::nullopt, false,
                        fmt::format("Spearman correlation of the {} importance with the ablation drops over the "
                                    "heads both cover, (1).",
                                    i.method)});
        write_all(g.get(), H5T_NATIVE_DOUBLE, &nan);
      }
    }
  }

  if (!h.attention.empty()) {
    H5Handle att = create_group(root, schema::kAttention,
                                "Attention statistics per head under the full model: a mean over each sequence's real "
                                "query tokens, then over the sequences of the scored examples (docs/importance.md).");
    write_attr(att.get(), "tokens", h.attention_tokens);
    for (const HeadStatistic& st : h.attention) {
      if (st.values.size() != L * H)
        throw std::invalid_argument(fmt::format("results: attention statistic {} is not (L, H)", st.name));
      H5Handle d = create_dataset(att.get(), {st.name, H5T_IEEE_F64LE, {L, H}, {}, std::nullopt, false, st.description});
      write_all(d.get(), H5T_NATIVE_DOUBLE, st.values.data());
    }
  }

  if (!h.pruning.empty()) {
    H5Handle pr = create_group(
        root, schema::kPruning,
        fmt::format("Iterative pruning curves ({} schedule), one group per head order; each step's mask is "
                    "a row of /masks.",
                    h.pruning_schedule));
    write_attr(pr.get(), "schedule", h.pruning_schedule);
    write_attr(pr.get(), "tolerance", h.pruning_tolerance);
    write_attr(pr.get(), "alpha", h.pruning_alpha);
    for (const PruningRecord& c : h.pruning) {
      const hsize_t S = c.fractions.size();
      if (c.heads_pruned.size() != S || c.mask_index.size() != S)
        throw std::invalid_argument("results: pruning curve " + c.name + " has columns of different lengths");
      H5Handle g = create_group(pr.get(), c.name, fmt::format("Pruning curve in {} order.", c.name));
      H5Handle f = create_dataset(g.get(), {"fraction", H5T_IEEE_F64LE, {S}, {}, std::nullopt, false,
                                            "Fraction of all heads removed at each step, (S)."});
      H5Handle hp = create_dataset(g.get(), {"heads_pruned", H5T_STD_I64LE, {S}, {}, std::nullopt, false,
                                             "Heads removed at each step, (S)."});
      H5Handle mi = create_dataset(g.get(), {"mask", H5T_STD_I64LE, {S}, {}, std::nullopt, false,
                                             "Row of /masks (and /scores, /predictions) of each step, (S)."});
      const std::vector<double> nan_s(S, kNaN);
      H5Handle sc = create_dataset(g.get(), {"score", H5T_IEEE_F64LE, {S}, {}, std::nullopt, false,
                                             fmt::format("{} at each step, (S); NaN until every mask is scored.",
                                                         h.metrics.front())});
      H5Handle pv = create_dataset(g.get(), {"p_value", H5T_IEEE_F64LE, {S}, {}, std::nullopt, false,
                                             "Bootstrap p-value of each step's change from the baseline, (S); NaN "
                                             "without stats.bootstrap."});
      const double nan = kNaN;
      H5Handle wt = create_dataset(g.get(), {"within_tolerance", H5T_IEEE_F64LE, {1}, {}, std::nullopt, false,
                                             "Largest fraction removed with every step's drop at most the "
                                             "tolerance (attribute of /pruning), (1)."});
      H5Handle ns = create_dataset(g.get(), {"not_significant", H5T_IEEE_F64LE, {1}, {}, std::nullopt, false,
                                             "Largest fraction removed with no step's drop significant at alpha "
                                             "(attribute of /pruning), (1); NaN without stats.bootstrap."});
      if (S > 0) {
        write_all(f.get(), H5T_NATIVE_DOUBLE, c.fractions.data());
        write_all(hp.get(), H5T_NATIVE_INT64, c.heads_pruned.data());
        write_all(mi.get(), H5T_NATIVE_INT64, c.mask_index.data());
        write_all(sc.get(), H5T_NATIVE_DOUBLE, nan_s.data());
        write_all(pv.get(), H5T_NATIVE_DOUBLE, nan_s.data());
      }
      write_all(wt.get(), H5T_NATIVE_DOUBLE, &nan);
      write_all(ns.get(), H5T_NATIVE_DOUBLE, &nan);
    }
  }

  // One chunk per mask row, uncompressed: a row's chunk is allocated once (below, for the rows this
  // run will write) and later writes overwrite it in place. A compressed chunk would be re-allocated
  // on every write, changing HDF5's chunk index (metadata) while masks are scored.
  const bool chunked = N > 0 && B > 0;
  H5Handle pred = create_dataset(
      root, {schema::kPredictions, H5T_IEEE_F32LE, {N, B},
             chunked ? std::vector<hsize_t>{1, B} : std::vector<hsize_t>{}, kNaN, false,
             "Output per mask and example, (N, B): the class index (classification), the score "
             "(regression) or the cosine of the two sentence embeddings (similarity); NaN until "
             "written."});
  if (chunked) {
    if (rows_to_write) {
      allocate_rows(pred.get(), N, B, *rows_to_write);
    } else {
      std::vector<int64_t> all(N);
      for (hsize_t n = 0; n < N; ++n) all[n] = static_cast<int64_t>(n);
      allocate_rows(pred.get(), N, B, all);
    }
  }

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

void fsync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return;  // best effort: some file systems do not open folders
  ::fsync(fd);
  ::close(fd);
}

// Moves the finished temporary file to `path`. Without overwrite, a file that appeared at `path`
// meanwhile (another run) is kept: link() fails rather than replace it.
void publish(const std::string& tmp, const std::string& path, bool overwrite) {
  if (!overwrite) {
    if (::link(tmp.c_str(), path.c_str()) == 0) {
      ::unlink(tmp.c_str());
      return;
    }
    const int err = errno;
    if (err == EEXIST) input_error("{} exists (set output.overwrite: true to replace it)", path);
    // File systems without hard links: check, then rename.
    std::error_code ec;
    if (fs::exists(path, ec)) input_error("{} exists (set output.overwrite: true to replace it)", path);
  }
  // Replacing a file that a run still writes would leave that run writing to a file no longer at
  // `path`: its work lost, although it ends without an error.
  if (held_by_writer(path)) refuse_held_by_writer(path);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    input_error("{}: cannot create the results file: {}", path, std::strerror(errno));
}

std::string parent_or_dot(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

}  // namespace

bool held_by_writer(const std::string& path) {
  // HDF5 (sec2 driver) takes flock(LOCK_EX) on a file it opens for writing and LOCK_SH for reading.
  // Asking for LOCK_SH directly, rather than through H5Fopen, gives the same answer whatever this
  // process's own HDF5_USE_FILE_LOCKING says.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // also drops the lock, if taken
  return held;
}

void create_parent_folders(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  if (parent.empty()) return;
  for (fs::path p = parent; !p.empty(); p = p.parent_path()) {
    const auto pst = path_status(p.string());
    if (fs::exists(pst)) {
      if (!fs::is_directory(pst))
        input_error("{}: cannot create the results file: {} is not a folder", path, p.string());
      break;
    }
    if (p == p.parent_path()) break;
  }
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) input_error("{}: cannot create folder {}: {}", path, parent.string(), ec.message());
}

void refuse_special_file(const std::string& path) {
  const auto st = path_status(path);
  if (fs::exists(st) && !fs::is_regular_file(st) && !fs::is_directory(st))
    input_error("{} is not a regular file (a device, a pipe or a socket), so it cannot hold results", path);
}

void refuse_held_by_writer(const std::string& path) {
  input_error("{} is open for writing in another process (HDF5 could not lock it): is a run still writing it? Wait "
              "for it to end, or use another output.path",
              path);
}

ResultsWriter::ResultsWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ResultsWriter::ResultsWriter(ResultsWriter&&) noexcept = default;
ResultsWriter& ResultsWriter::operator=(ResultsWriter&&) noexcept = default;

ResultsWriter::~ResultsWriter() = default;

ResultsWriter ResultsWriter::create(const std::string& path, const ResultsHeader& header,
                                    const std::vector<uint8_t>& masks,
                                    const std::vector<std::string>& mask_names,
                                    const std::vector<double>& labels,
                                    const std::vector<int64_t>& rows, bool overwrite) {
  WriterOptions options;
  options.overwrite = overwrite;
  return create(path, header, masks, mask_names, labels, rows, options);
}

ResultsWriter ResultsWriter::create(const std::string& path, const ResultsHeader& header,
                                    const std::vector<uint8_t>& masks,
                                    const std::vector<std::string>& mask_names,
                                    const std::vector<double>& labels,
                                    const std::vector<int64_t>& rows, const WriterOptions& options) {
  check_shapes(header, masks, mask_names, labels, rows);
  prepare_path(path, options.overwrite);
  // Built under a temporary name next to `path` and renamed into place once complete and closed, so
  // a kill during creation leaves no half-built file at `path` (at most the temporary file).
  const std::string tmp = fmt::format("{}.creating-{}", path, ::getpid());
  {
    H5Quiet quiet;
    H5Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    if (!file.valid()) input_error("{}: cannot create the results file: {}", path, open_failure_reason());
    try {
      write_layout(file.get(), header, masks, mask_names, labels, rows, options.rows_to_write);
      if (!file.reset()) h5_fail(path, "cannot close the new results file");
    } catch (...) {
      file.reset();
      std::error_code ec;
      fs::remove(tmp, ec);
      throw;
    }
  }
  try {
    fsync_path(tmp, false);
    publish(tmp, path, options.overwrite);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  fsync_path(parent_or_dot(path), true);
  ResultsWriter w = reopen(path, options.commit_interval_s);
  w.impl_->durable = options.durable;
  return w;
}

ResultsWriter ResultsWriter::reopen(const std::string& path, double commit_interval_s) {
  H5Quiet quiet;
  auto w = std::make_unique<Impl>();
  w->path = path;
  w->commit_interval_s = commit_interval_s;
  w->file = H5Handle(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
  if (!w->file.valid()) {
    if (h5_lock_failure(h5_error_detail())) {
      if (held_by_writer(path)) refuse_held_by_writer(path);
      input_error("{} is open in another process, whose lock keeps this run from writing it ({}): a reader such as "
                  "h5py holds one too; close the file there, or open it there with HDF5_USE_FILE_LOCKING=FALSE",
                  path, open_failure_reason());
    }
    input_error("{}: cannot open the results file for writing: {}", path, open_failure_reason());
  }
  try {
    const hid_t root = w->file.get();
    w->metrics = read_attr_strings(root, "metrics");
    w->n_examples = read_attr_int(root, "n_examples");
    w->open_datasets();
    const std::vector<hsize_t> dims = dataset_dims(w->masks_done.get());
    w->n_masks = dims.empty() ? 0 : static_cast<int64_t>(dims[0]);
    w->done.assign(static_cast<size_t>(w->n_masks), 0);
    if (w->n_masks > 0) read_all(w->masks_done.get(), H5T_NATIVE_UINT8, w->done.data());
  } catch (const std::runtime_error& e) {
    if (dynamic_cast<const InputError*>(&e)) throw;
    input_error("{}: damaged results file: {}", path, e.what());
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
  w.done[n] = 1;
  if (!w.durable) {
    const uint8_t one = 1;
    write_block(w.masks_done.get(), H5T_NATIVE_UINT8, {row}, {1}, &one);
    return;
  }
  w.pending.push_back(n);
  const double since = std::chrono::duration<double>(std::chrono::steady_clock::now() - w.last_commit).count();
  if (since >= w.commit_interval_s) w.commit();
}

void ResultsWriter::write_bootstrap(const std::string& metric, const BootstrapColumns& c) {
  Impl& w = *impl_;
  if (w.finished) throw std::logic_error("results: write_bootstrap after finish");
  const auto N = static_cast<size_t>(w.n_masks);
  if (c.ci.size() != 2 * N || c.delta_ci.size() != 2 * N || c.p_value.size() != N)
    throw std::invalid_argument(fmt::format("results: bootstrap columns of {}, {} and {} values for {} masks",
                                            c.ci.size(), c.delta_ci.size(), c.p_value.size(), N));
  if (!w.scores.count(metric)) throw std::invalid_argument("results: unknown metric " + metric);
  H5Quiet quiet;
  const std::string group = std::string(schema::kBootstrap) + "/" + metric;
  if (N == 0) return;
  write_all(open_dataset(w.file.get(), group + "_ci").get(), H5T_NATIVE_DOUBLE, c.ci.data());
  write_all(open_dataset(w.file.get(), group + "_delta_ci").get(), H5T_NATIVE_DOUBLE, c.delta_ci.data());
  write_all(open_dataset(w.file.get(), group + "_delta_p").get(), H5T_NATIVE_DOUBLE, c.p_value.data());
}

void ResultsWriter::write_ablation(const std::vector<double>& drops, const std::map<std::string, double>& agreement) {
  Impl& w = *impl_;
  if (w.finished) throw std::logic_error("results: write_ablation after finish");
  H5Quiet quiet;
  H5Handle a = open_dataset(w.file.get(), schema::kAblation);
  size_t n = 1;
  for (hsize_t d : dataset_dims(a.get())) n *= d;
  if (drops.size() != n) throw std::invalid_argument(fmt::format("results: {} ablation values for {} heads", drops.size(), n));
  write_all(a.get(), H5T_NATIVE_DOUBLE, drops.data());
  for (const auto& [method, rho] : agreement) {
    write_all(open_dataset(w.file.get(), std::string(schema::kImportance) + "/" + method + "_vs_ablation").get(),
              H5T_NATIVE_DOUBLE, &rho);
  }
}

void ResultsWriter::write_pruning(const std::string& name, const PruningScores& p) {
  Impl& w = *impl_;
  if (w.finished) throw std::logic_error("results: write_pruning after finish");
  H5Quiet quiet;
  const std::string g = std::string(schema::kPruning) + "/" + name + "/";
  H5Handle sc = open_dataset(w.file.get(), g + "score");
  const auto dims = dataset_dims(sc.get());
  if (dims.size() != 1 || p.score.size() != dims[0] || p.p_value.size() != dims[0])
    throw std::invalid_argument("results: pruning scores do not fit curve " + name);
  if (!p.score.empty()) {
    write_all(sc.get(), H5T_NATIVE_DOUBLE, p.score.data());
    write_all(open_dataset(w.file.get(), g + "p_value").get(), H5T_NATIVE_DOUBLE, p.p_value.data());
  }
  write_all(open_dataset(w.file.get(), g + "within_tolerance").get(), H5T_NATIVE_DOUBLE, &p.within_tolerance);
  write_all(open_dataset(w.file.get(), g + "not_significant").get(), H5T_NATIVE_DOUBLE, &p.not_significant);
}

void ResultsWriter::commit() {
  H5Quiet quiet;
  if (impl_->durable) impl_->commit();
}

void ResultsWriter::finish() {
  Impl& w = *impl_;
  if (w.finished) return;
  H5Quiet quiet;
  w.commit();
  w.sync();  // every row before the flag that says the run is over
  update_attr(w.file.get(), "complete", 1);
  w.sync();
  w.finished = true;
}

const std::string& ResultsWriter::path() const { return impl_->path; }
int64_t ResultsWriter::n_masks() const { return impl_->n_masks; }
int64_t ResultsWriter::n_examples() const { return impl_->n_examples; }
bool ResultsWriter::mask_done(int64_t n) const {
  return n >= 0 && n < impl_->n_masks && impl_->done[n] != 0;
}

}  // namespace hs::io
