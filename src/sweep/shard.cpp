#include "sweep/shard.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "io/h5_read.h"
#include "io/results.h"
#include "io/results_file.h"
#include "io/results_identity.h"
#include "sweep/sweep_stats.h"
#include "util/error.h"
#include "util/paths.h"

namespace fs = std::filesystem;

namespace hs::sweep {
namespace {

// A non-negative decimal integer that fits an int, or nullopt.
std::optional<int> parse_count(const std::string& s) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::stoi(s);
}

// First layer at which masks a and b differ; L when they are equal.
int first_difference(const uint8_t* a, const uint8_t* b, int L, int H) {
  for (int l = 0; l < L; ++l)
    if (std::memcmp(a + static_cast<size_t>(l) * H, b + static_cast<size_t>(l) * H, H) != 0) return l;
  return L;
}

}  // namespace

Shard parse_shard(const std::string& text) {
  const size_t slash = text.find('/');
  const auto index = slash == std::string::npos ? std::nullopt : parse_count(text.substr(0, slash));
  const auto count = slash == std::string::npos ? std::nullopt : parse_count(text.substr(slash + 1));
  if (!index || !count || *count < 1)
    input_error("--shard {}: expected INDEX/COUNT with COUNT at least 1, e.g. --shard 0/4", text);
  if (*index >= *count)
    input_error("--shard {}: shards count from 0, so INDEX must be 0 to {}", text, *count - 1);
  return Shard{*index, *count, "--shard " + text};
}

std::optional<Shard> shard_from_env(const GetEnv& getenv) {
  const char* id = getenv("SLURM_ARRAY_TASK_ID");
  if (!id) return std::nullopt;
  const char* count = getenv("SLURM_ARRAY_TASK_COUNT");
  const char* min = getenv("SLURM_ARRAY_TASK_MIN");
  const char* step = getenv("SLURM_ARRAY_TASK_STEP");
  std::string source = fmt::format("SLURM_ARRAY_TASK_ID={}", id);
  if (count) source += fmt::format(", SLURM_ARRAY_TASK_COUNT={}", count);
  if (min) source += fmt::format(", SLURM_ARRAY_TASK_MIN={}", min);
  if (step) source += fmt::format(", SLURM_ARRAY_TASK_STEP={}", step);
  if (!count) input_error("{}: SLURM_ARRAY_TASK_COUNT is not set; pass --shard INDEX/COUNT", source);
  const auto i = parse_count(id), n = parse_count(count), lo = parse_count(min ? min : "0"),
             st = parse_count(step ? step : "1");
  if (!i || !n || !lo || !st || *n < 1 || *st < 1)
    input_error("{}: expected non-negative integers (and a positive count and step); pass --shard INDEX/COUNT",
                source);
  // One task submitted again on its own (--array=5) is an array of one: its count says nothing
  // about the sweep's shards, and "shard 0 of 1" would score the whole sweep into another file.
  if (*n == 1)
    input_error("{}: an array of one task does not say which of how many shards this is (a task submitted again "
                "on its own, e.g. --array={}, counts 1); pass --shard INDEX/COUNT",
                source, *i);
  const int offset = *i - *lo;
  if (offset < 0 || offset % *st != 0 || offset / *st >= *n)
    input_error("{}: not a task of a contiguous array of {} tasks ({}); use e.g. --array=0-{} or pass --shard "
                "INDEX/COUNT",
                source, *n, offset < 0 ? "the ID is below SLURM_ARRAY_TASK_MIN" : "index out of range", *n - 1);
  return Shard{offset / *st, *n, source};
}

std::string shard_path(const std::string& path, const Shard& shard) {
  const fs::path p(path);
  const std::string tag = fmt::format(".shard-{}-of-{}", shard.index, shard.count);
  fs::path out = p;
  out.replace_filename(p.stem().string() + tag + p.extension().string());
  return out.string();
}

std::vector<int64_t> trie_sorted(const std::vector<uint8_t>& masks, int L, int H) {
  const size_t lh = static_cast<size_t>(L) * static_cast<size_t>(H);
  const int64_t N = lh == 0 ? 0 : static_cast<int64_t>(masks.size() / lh);
  std::vector<int64_t> order(N);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return std::memcmp(masks.data() + a * lh, masks.data() + b * lh, lh) < 0;
  });
  return order;
}

std::vector<int> shard_owners(const std::vector<uint8_t>& masks, int L, int H, int count) {
  const std::vector<int64_t> order = trie_sorted(masks, L, H);
  const int64_t N = static_cast<int64_t>(order.size());
  const size_t lh = static_cast<size_t>(L) * static_cast<size_t>(H);
  // depth[p]: the layer where sorted masks p-1 and p first differ. Cutting before p splits a
  // subtree of the trie rooted at that depth; the shallower, the less shared work is split.
  std::vector<int> depth(N + 1, -1);
  for (int64_t p = 1; p < N; ++p)
    depth[p] = first_difference(masks.data() + order[p - 1] * lh, masks.data() + order[p] * lh, L, H);
  // Cut k (1..count-1) lands within `window` positions of the even split k*N/count, at the
  // shallowest depth there (then the closest to the even split, then the earliest). When there are
  // fewer masks than shards, count - N shards are empty, wherever two cuts round to the same place.
  const int64_t window = N / (8 * static_cast<int64_t>(count));
  const bool all_nonempty = N >= count;
  std::vector<int64_t> cuts = {0};
  for (int k = 1; k < count; ++k) {
    const double ideal = static_cast<double>(k) * static_cast<double>(N) / count;
    const int64_t even = static_cast<int64_t>(std::llround(ideal));
    const int64_t first = cuts.back() + (all_nonempty ? 1 : 0);  // keeps shard k-1 non-empty
    const int64_t last = N - (all_nonempty ? count - k : 0);       // leaves a mask for each later shard
    int64_t best = std::clamp(even, first, last);
    const auto key = [&](int64_t q) {
      const int d = (q <= 0 || q >= N) ? -1 : depth[q];  // a cut at either end splits nothing
      return std::make_pair(d, std::abs(static_cast<double>(q) - ideal));
    };
    for (int64_t p = std::max(first, even - window); p <= std::min(last, even + window); ++p)
      if (key(p) < key(best)) best = p;
    cuts.push_back(best);
  }
  cuts.push_back(N);
  std::vector<int> owner(N, 0);
  for (int k = 0; k < count; ++k)
    for (int64_t p = cuts[k]; p < cuts[k + 1]; ++p) owner[order[p]] = k;
  return owner;
}

std::vector<int64_t> shard_masks(const std::vector<uint8_t>& masks, int L, int H, const Shard& shard) {
  const std::vector<int> owner = shard_owners(masks, L, H, shard.count);
  std::vector<int64_t> out;
  for (size_t n = 0; n < owner.size(); ++n)
    if (owner[n] == shard.index) out.push_back(static_cast<int64_t>(n));
  return out;
}

// ---- merge

namespace {

struct Input {
  std::string path;
  io::ResultsFile file;
  std::vector<uint8_t> done;
};

// "12-15", "17", ... for sorted mask indices.
std::string ranges_text(const std::vector<int64_t>& masks, size_t max_ranges = 5) {
  std::vector<std::string> parts;
  size_t i = 0, n_ranges = 0;
  while (i < masks.size()) {
    size_t j = i;
    while (j + 1 < masks.size() && masks[j + 1] == masks[j] + 1) ++j;
    if (n_ranges++ < max_ranges)
      parts.push_back(i == j ? std::to_string(masks[i]) : fmt::format("{}-{}", masks[i], masks[j]));
    i = j + 1;
  }
  std::string out = fmt::format("{}", fmt::join(parts, ", "));
  if (n_ranges > max_ranges) out += fmt::format(" and {} more ranges", n_ranges - max_ranges);
  return out;
}

// Why masks are missing, when the inputs say which shards they come from.
std::string gap_hint(const std::vector<int64_t>& missing, const std::vector<Input>& inputs, const io::SweepIdentity& id) {
  int count = 0;
  for (const Input& in : inputs) {
    const int c = in.file.info().header.shard_count;
    if (c <= 0 || (count != 0 && c != count)) return "";
    count = c;
  }
  const std::vector<int> owner = shard_owners(id.masks, id.n_layers, id.n_heads, count);
  std::set<int> shards;
  for (int64_t m : missing) shards.insert(owner[m]);
  std::vector<std::string> notes;
  for (int k : shards) {
    std::string file;
    for (const Input& in : inputs)
      if (in.file.info().header.shard_index == k) file = in.path;
    notes.push_back(file.empty() ? fmt::format("shard {} of {}: no file of it was given", k, count)
                                 : fmt::format("shard {} of {}: {} is incomplete, rerun its command to resume it", k,
                                               count, file));
  }
  return fmt::format(" ({})", fmt::join(notes, "; "));
}

void publish(const std::string& tmp, const std::string& out, bool overwrite) {
  if (!overwrite) {
    if (::link(tmp.c_str(), out.c_str()) == 0) {
      ::unlink(tmp.c_str());
      return;
    }
    std::error_code ec;
    if (errno == EEXIST || fs::exists(out, ec)) input_error("{} exists (pass --overwrite to replace it)", out);
  }
  if (::rename(tmp.c_str(), out.c_str()) != 0) input_error("{}: cannot write the merged file: {}", out, std::strerror(errno));
}

}  // namespace

MergeResult merge_results(const std::string& out, const std::vector<std::string>& paths, bool overwrite) {
  if (paths.empty()) input_error("merge: no input files");
  const fs::file_status out_status = path_status(out);
  if (fs::is_directory(out_status)) input_error("{}: is a folder, not a results file name", out);
  io::refuse_special_file(out);
  if (fs::exists(out_status)) {
    // --overwrite replaces a results file that no run is writing, and nothing else: not a config or
    // data file given in the wrong place.
    if (!overwrite) input_error("{} exists (pass --overwrite to replace it)", out);
    if (!io::is_hdf5_file(out))
      input_error("{} is not a results file (HDF5), so --overwrite does not replace it; delete it first if it should go",
                  out);
    if (io::held_by_writer(out)) io::refuse_held_by_writer(out);
  }
  std::error_code ec;
  std::map<std::string, std::string> seen;  // canonical path -> as given
  for (const std::string& p : paths) {
    const std::string key = fs::weakly_canonical(p, ec).string();
    if (seen.count(key)) input_error("{} is given twice", p);
    seen[key] = p;
  }
  if (seen.count(fs::weakly_canonical(out, ec).string())) input_error("{}: the output is one of the inputs", out);

  std::vector<Input> inputs;
  for (const std::string& p : paths) {
    io::ResultsFile f = io::ResultsFile::open(p);
    std::vector<uint8_t> done = f.masks_done();
    inputs.push_back(Input{p, std::move(f), std::move(done)});
  }
  const Input& first = inputs.front();
  const io::SweepIdentity id = io::read_identity(first.file);
  for (size_t i = 1; i < inputs.size(); ++i) {
    const Input& in = inputs[i];
    if (in.file.info().schema_version != first.file.info().schema_version)
      input_error("{} and {} have different schema versions ({} vs {})", first.path, in.path,
                  first.file.info().schema_version, in.file.info().schema_version);
    const std::string diff = io::identity_difference(id, io::read_identity(in.file), "in " + first.path, "in " + in.path);
    if (!diff.empty()) input_error("{} {}; only files of one sweep can be merged", in.path, diff);
  }

  const int64_t N = static_cast<int64_t>(id.mask_names.size());
  std::vector<int> source(N, -1);
  std::vector<int64_t> missing;
  for (int64_t n = 0; n < N; ++n) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (n >= static_cast<int64_t>(inputs[i].done.size()) || !inputs[i].done[n]) continue;
      if (source[n] >= 0) {
        int64_t more = 0;  // further masks scored twice, for the message
        for (int64_t m = n + 1; m < N; ++m) {
          int k = 0;
          for (const Input& in : inputs) k += in.done[m] ? 1 : 0;
          more += k > 1;
        }
        input_error("{} and {} both scored mask {} ({}){}; each mask must come from exactly one file",
                    inputs[source[n]].path, inputs[i].path, n, id.mask_names[n],
                    more ? fmt::format(", and {} more masks are scored twice", more) : "");
      }
      source[n] = static_cast<int>(i);
    }
    if (source[n] < 0) missing.push_back(n);
  }
  if (!missing.empty())
    input_error("no shard scored {} {}{}", missing.size() == 1 ? "mask" : "masks", ranges_text(missing),
                gap_hint(missing, inputs, id));

  io::ResultsHeader header = first.file.info().header;
  header.shard_index = 0;
  header.shard_count = 0;
  header.merged_from.clear();
  for (const Input& in : inputs) header.merged_from.push_back(fs::path(in.path).filename().string());
  std::vector<std::string> names;  // the shards' devices, each once, in the order given
  for (const Input& in : inputs) {
    const std::string& name = in.file.info().header.device_name;
    if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  header.device_name = fmt::format("{}", fmt::join(names, "; "));

  std::vector<std::map<std::string, std::vector<double>>> scores(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i)
    for (const std::string& m : header.metrics) scores[i][m] = inputs[i].file.scores(m);

  MergeResult result;
  result.path = out;
  result.header = header;
  result.mask_names = id.mask_names;
  result.n_examples = static_cast<int64_t>(id.labels.size());
  result.scores.resize(N);

  // Written under a temporary name and renamed once complete, so `out` is never a partial merge.
  const std::string tmp = fmt::format("{}.merging-{}", out, ::getpid());
  try {
    io::WriterOptions options;
    options.overwrite = true;
    options.durable = false;  // nothing is visible before the rename
    io::ResultsWriter w = io::ResultsWriter::create(tmp, header, id.masks, id.mask_names, id.labels, id.rows, options);
    // The shards cannot compute the bootstrap (each lacks the others' masks); the merge can.
    const bool intervals = header.bootstrap_resamples > 0;
    std::vector<std::vector<float>> predictions(intervals ? N : 0);
    for (int64_t n = 0; n < N; ++n) {
      const int i = source[n];
      std::map<std::string, double> row;
      for (const std::string& m : header.metrics) row[m] = scores[i].at(m)[n];
      std::vector<float> pred = inputs[i].file.predictions(n);
      w.write_mask(n, row, pred);
      if (intervals) predictions[n] = std::move(pred);
      result.scores[n] = row;
    }
    SweepStats st = write_sweep_stats(w, header, id.masks, predictions, result.scores, id.labels);
    result.bootstrap = std::move(st.bootstrap);
    result.ablation = std::move(st.ablation.drops);
    result.agreement = std::move(st.ablation.agreement);
    result.pruning = std::move(st.pruning);
    w.finish();
  } catch (const InputError& e) {
    // Name the file the user asked for (an unwritable folder, a full disk), not the temporary one.
    fs::remove(tmp, ec);
    std::string what = e.what();
    for (size_t at = what.find(tmp); at != std::string::npos; at = what.find(tmp, at + out.size()))
      what.replace(at, tmp.size(), out);
    throw InputError(what);
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
  }
  try {
    publish(tmp, out, overwrite);
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
  }
  return result;
}

}  // namespace hs::sweep
