#include "masks/mask_file.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "io/h5_read.h"
#include "io/option_value.h"
#include "masks/npy.h"
#include "text/unicode.h"
#include "util/error.h"
#include "util/paths.h"

namespace fs = std::filesystem;

namespace hs::masks {

namespace {

std::string shape_text(const std::vector<int64_t>& dims) {
  if (dims.size() == 1) return fmt::format("({},)", dims[0]);
  return fmt::format("({})", fmt::join(dims, ", "));
}

bool is_default_dataset(const std::string& d) { return d.empty() || d == "/masks" || d == "masks"; }

// Masks from an array read whole: `what` names its source in messages ("masks.npy", "r.h5:
// dataset /masks"), `stem` the masks ("masks.npy#3").
MaskSet masks_from_array(const std::vector<int64_t>& dims, const std::vector<int64_t>& values,
                         const std::string& what, const std::string& stem,
                         const std::vector<std::string>* names, int L, int H) {
  const bool single = dims.size() == 2;
  if (dims.size() != 2 && dims.size() != 3)
    input_error("{}: expected masks of shape (N, L, H) or (L, H), got shape {}", what, shape_text(dims));
  const int64_t N = single ? 1 : dims[0];
  const int64_t fl = dims[dims.size() - 2], fh = dims[dims.size() - 1];
  if (fl != L || fh != H)
    input_error("{}: masks of shape {} do not fit the model, which has L = {} layers of H = {} heads: "
                "expected (N, {}, {}) or ({}, {})",
                what, shape_text(dims), L, H, L, H, L, H);
  if (N == 0) input_error("{}: no masks (shape {})", what, shape_text(dims));
  const size_t LH = static_cast<size_t>(L) * H;
  MaskSet out(L, H);
  out.add(std::vector<uint8_t>(LH, 1), "baseline");
  std::vector<uint8_t> m(LH);
  for (int64_t n = 0; n < N; ++n) {
    for (size_t i = 0; i < LH; ++i) {
      const int64_t v = values[static_cast<size_t>(n) * LH + i];
      if (v != 0 && v != 1)
        input_error("{}: mask {}, {} is {}; masks hold 0 (head masked) or 1 (kept)", what, n,
                    head_name(static_cast<int>(i / H), static_cast<int>(i % H)), v);
      m[i] = static_cast<uint8_t>(v);
    }
    out.add(m, names ? (*names)[n] : fmt::format("{}#{}", stem, n));
  }
  return out;
}

// Parses "L3.H7", "L3", "-L3.H7"; returns false when `tok` is none of these.
bool parse_head(const std::string& tok, int& l, int& h) {
  size_t i = tok.size() > 1 && tok[0] == '-' ? 1 : 0;
  auto number = [&](int& out) {
    const size_t start = i;
    long v = 0;
    while (i < tok.size() && std::isdigit(static_cast<unsigned char>(tok[i])) && i - start < 6)
      v = v * 10 + (tok[i++] - '0');
    out = static_cast<int>(v);
    return i > start && (i == tok.size() || !std::isdigit(static_cast<unsigned char>(tok[i])));
  };
  if (i >= tok.size() || tok[i++] != 'L' || !number(l)) return false;
  h = -1;
  if (i == tok.size()) return true;
  if (tok.compare(i, 2, ".H") != 0) return false;
  i += 2;
  return number(h) && i == tok.size();
}

MaskSet read_text(const std::string& path, int L, int H) {
  std::ifstream in(path, std::ios::binary);
  if (!in) input_error("{}: cannot read: {}", path, std::strerror(errno));
  const size_t LH = static_cast<size_t>(L) * H;
  MaskSet out(L, H);
  out.add(std::vector<uint8_t>(LH, 1), "baseline");
  std::string line;
  int line_no = 0, masks = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // Bytes that are not text (a binary file given by mistake) would be echoed raw in the errors below.
    if (const auto fault = text::find_text_fault(line))
      input_error("{}:{}:{}: {}", path, line_no, fault->offset + 1, text::describe(*fault));
    const size_t hash = line.find('#');
    const bool commented = hash != std::string::npos;
    if (commented) line.erase(hash);
    std::vector<std::string> tokens;
    std::string tok;
    for (char c : line + ' ') {
      if (c == ' ' || c == '\t' || c == ',') {
        if (!tok.empty()) tokens.push_back(tok);
        tok.clear();
      } else {
        tok += c;
      }
    }
    // A line holding only a comment is no mask; an empty line is the baseline.
    if (tokens.empty() && commented) continue;
    std::vector<uint8_t> m(LH, 1);
    if (tokens.size() == 1 && tokens[0] == "-") tokens.clear();
    for (const std::string& t : tokens) {
      int l = 0, h = 0;
      if (t == "-")
        input_error("{}:{}: '-' (the baseline) must be alone on its line", path, line_no);
      if (!parse_head(t, l, h))
        input_error("{}:{}: expected heads to mask like L0.H3 (or L3 for a whole layer), got {}", path,
                    line_no, io::quoted(t));
      if (l >= L)
        input_error("{}:{}: {}: no layer {}; the model has {} layers, L0 to L{}", path, line_no, t, l, L, L - 1);
      if (h >= H)
        input_error("{}:{}: {}: no head {}; the model has {} heads per layer, H0 to H{}", path, line_no,
                    t, h, H, H - 1);
      for (int hh = (h < 0 ? 0 : h); hh < (h < 0 ? H : h + 1); ++hh) {
        uint8_t& g = m[static_cast<size_t>(l) * H + hh];
        if (g == 0) input_error("{}:{}: {} is masked twice on this line", path, line_no, head_name(l, hh));
        g = 0;
      }
    }
    out.add(m, removed_name(m.data(), L, H));
    ++masks;
  }
  if (in.bad()) input_error("{}: cannot read: {}", path, std::strerror(errno));
  if (masks == 0)
    input_error("{}: no masks (one mask per line: the heads it masks, e.g. L0.H3 L2.H11; an empty "
                "line or - is the baseline)", path);
  return out;
}

}  // namespace

MaskSet read_mask_file(const std::string& path, const std::string& dataset, int L, int H,
                       const io::OptionWhere& where) {
  const PathLook look = look_at_path(path);
  if (!look.problem.empty()) where.fail("sweep.path", "{} cannot be accessed ({})", io::quoted(path), look.problem);
  const fs::file_status st = look.status;
  if (!fs::exists(st)) where.fail("sweep.path", "{} does not exist", io::quoted(path));
  if (fs::is_directory(st)) where.fail("sweep.path", "{} is a folder, not a file", io::quoted(path));
  // A pipe could be read only once, and the format is found by reading the file's first bytes.
  if (!fs::is_regular_file(st))
    where.fail("sweep.path", "{} is not a regular file (a device or a pipe)", io::quoted(path));
  const std::string stem = fs::path(path).filename().string();
  if (io::is_hdf5_file(path)) {
    const std::string name = dataset.empty() ? "/masks" : dataset;
    const io::H5IntArray a = io::read_int_dataset(path, name);
    std::optional<std::vector<std::string>> names;
    if (is_default_dataset(dataset) && a.dims.size() == 3) {
      names = io::read_string_dataset(path, "/mask_names");
      if (names && static_cast<int64_t>(names->size()) != a.dims[0]) names.reset();
    }
    return masks_from_array(a.dims, a.values, fmt::format("{}: dataset {}", path, name), stem,
                            names ? &*names : nullptr, L, H);
  }
  const bool npy = is_npy_file(path);
  if (!is_default_dataset(dataset))
    where.fail("sweep.dataset", "{}, but only HDF5 files have datasets, and {} is {}", dataset, path,
               npy ? "a .npy file" : "not HDF5 (read as text)");
  if (npy) {
    const NpyArray a = read_npy(path);
    return masks_from_array(a.shape, a.values, path, stem, nullptr, L, H);
  }
  return read_text(path, L, H);
}

}  // namespace hs::masks
