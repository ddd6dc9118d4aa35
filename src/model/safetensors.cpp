#include "model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/sha256.h"

// Tensor bytes are reinterpreted in place, and the format is little-endian.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors reader assumes a little-endian host");

namespace hs::model {

using json = nlohmann::json;

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::F64:
    case DType::I64: return 8;
    case DType::F32:
    case DType::I32: return 4;
    case DType::F16:
    case DType::BF16:
    case DType::I16: return 2;
    case DType::I8:
    case DType::U8:
    case DType::Bool: return 1;
  }
  return 0;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::F64: return "F64";
    case DType::I64: return "I64";
    case DType::I32: return "I32";
    case DType::I16: return "I16";
    case DType::I8: return "I8";
    case DType::U8: return "U8";
    case DType::Bool: return "BOOL";
  }
  return "?";
}

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// ---- mapping

struct SafetensorsFile::Mapping {
  const unsigned char* data = nullptr;
  size_t size = 0;

  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (data != nullptr && size > 0) munmap(const_cast<unsigned char*>(data), size);
  }
};

namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

bool parse_dtype(const std::string& s, DType& out) {
  static const std::pair<const char*, DType> table[] = {
      {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16}, {"F64", DType::F64},
      {"I64", DType::I64}, {"I32", DType::I32}, {"I16", DType::I16},   {"I8", DType::I8},
      {"U8", DType::U8},   {"BOOL", DType::Bool}};
  for (const auto& [name, dtype] : table) {
    if (s == name) {
      out = dtype;
      return true;
    }
  }
  return false;
}

// Non-negative JSON integer that fits in u64 (nlohmann stores small positive numbers as unsigned,
// negative ones as signed).
bool as_u64(const json& j, uint64_t& out) {
  if (j.is_number_unsigned()) {
    out = j.get<uint64_t>();
    return true;
  }
  if (j.is_number_integer() && j.get<int64_t>() >= 0) {
    out = static_cast<uint64_t>(j.get<int64_t>());
    return true;
  }
  return false;
}

// nlohmann's what() starts with "[json.exception.parse_error.101] "; the id helps nobody.
std::string json_reason(const json::exception& e) {
  std::string what = e.what();
  if (!what.empty() && what[0] == '[') {
    auto close = what.find("] ");
    if (close != std::string::npos) what = what.substr(close + 2);
  }
  return what;
}

}  // namespace

// ---- header validation

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  SafetensorsFile file;
  file.path_ = path;

  Fd fd;
  fd.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd.fd < 0) input_error("{}: cannot open safetensors file ({})", path, std::strerror(errno));
  struct stat st {};
  if (fstat(fd.fd, &st) != 0) input_error("{}: cannot stat ({})", path, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) input_error("{}: not a regular file", path);
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < 8) {
    input_error("{}: file is {} bytes, too short for the 8-byte safetensors header length", path, file_size);
  }

  void* addr = mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, fd.fd, 0);
  if (addr == MAP_FAILED) input_error("{}: cannot mmap {} bytes ({})", path, file_size, std::strerror(errno));
  file.mapping_ = std::make_unique<Mapping>();
  file.mapping_->data = static_cast<const unsigned char*>(addr);
  file.mapping_->size = file_size;
  const unsigned char* base = file.mapping_->data;

  uint64_t header_len = 0;
  std::memcpy(&header_len, base, 8);
  if (header_len > file_size - 8) {
    input_error("{}: header length {} runs past the end of the file ({} bytes, header starts at byte 8)", path,
                header_len, file_size);
  }
  const char* header_begin = reinterpret_cast<const char*>(base + 8);
  const char* header_end = header_begin + header_len;
  const uint64_t data_start = 8 + header_len;
  const uint64_t data_size = file_size - data_start;

  // nlohmann keeps the last of two equal keys; a duplicated tensor name would silently hide one entry.
  std::set<std::string> seen;
  std::string duplicate;
  json::parser_callback_t on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1 && duplicate.empty()) {
      std::string key = parsed.get<std::string>();
      if (!seen.insert(key).second) duplicate = key;
    }
    return true;
  };
  json header;
  try {
    header = json::parse(header_begin, header_end, on_event);
  } catch (const json::parse_error& e) {
    // e.byte counts characters read, so it is 1-based; the file offset is what a hex dump shows.
    input_error("{}: header is not valid JSON (header byte {}, file offset {}): {}", path, e.byte, 8 + e.byte - 1,
                json_reason(e));
  }
  if (!header.is_object()) input_error("{}: header is not a JSON object", path);
  if (!duplicate.empty()) input_error("{}: header lists \"{}\" twice", path, duplicate);

  struct Span {
    uint64_t begin, end;
    const std::string* name;
  };
  std::vector<Span> spans;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const json& entry = it.value();
    if (name == "__metadata__") {
      if (!entry.is_object()) input_error("{}: \"__metadata__\" is not a JSON object", path);
      for (auto m = entry.begin(); m != entry.end(); ++m) {
        if (!m.value().is_string()) input_error("{}: \"__metadata__\" value \"{}\" is not a string", path, m.key());
        file.metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!entry.is_object()) input_error("{}: tensor {}: entry is not a JSON object", path, name);
    for (const char* key : {"dtype", "shape", "data_offsets"}) {
      if (!entry.contains(key)) input_error("{}: tensor {}: missing \"{}\"", path, name, key);
    }

    TensorView view;
    view.name = name;
    const json& jdtype = entry["dtype"];
    if (!jdtype.is_string()) input_error("{}: tensor {}: \"dtype\" is not a string", path, name);
    if (!parse_dtype(jdtype.get<std::string>(), view.dtype)) {
      input_error("{}: tensor {}: unknown dtype \"{}\" (supported: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL)",
                  path, name, jdtype.get<std::string>());
    }

    const json& jshape = entry["shape"];
    if (!jshape.is_array()) input_error("{}: tensor {}: \"shape\" is not an array", path, name);
    // Checked product: a hostile shape must not wrap around to match a small byte span.
    uint64_t expected = dtype_size(view.dtype);
    bool overflow = false;
    for (const json& d : jshape) {
      uint64_t dim = 0;
      if (!as_u64(d, dim) || dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        input_error("{}: tensor {}: \"shape\" must hold non-negative integers, got {}", path, name, jshape.dump());
      }
      view.shape.push_back(static_cast<int64_t>(dim));
      if (dim != 0 && expected > std::numeric_limits<uint64_t>::max() / dim) overflow = true;
      expected *= dim;
    }

    const json& joff = entry["data_offsets"];
    uint64_t begin = 0, end = 0;
    if (!joff.is_array() || joff.size() != 2 || !as_u64(joff[0], begin) || !as_u64(joff[1], end)) {
      input_error("{}: tensor {}: \"data_offsets\" must be two non-negative integers [begin, end], got {}", path,
                  name, joff.dump());
    }
    if (begin > end) input_error("{}: tensor {}: data_offsets [{}, {}] has begin > end", path, name, begin, end);
    if (end > data_size) {
      input_error("{}: tensor {}: data_offsets [{}, {}] run past the data buffer ({} bytes, from file byte {})", path,
                  name, begin, end, data_size, data_start);
    }
    if (overflow || end - begin != expected) {
      input_error("{}: tensor {}: data_offsets [{}, {}] hold {} bytes but {} {} needs {}", path, name, begin, end,
                  end - begin, dtype_name(view.dtype), shape_str(view.shape),
                  overflow ? std::string("more than 2^64") : std::to_string(expected));
    }
    view.data = base + data_start + begin;
    view.nbytes = static_cast<size_t>(end - begin);
    auto [slot, inserted] = file.tensors_.emplace(name, std::move(view));
    if (begin != end) spans.push_back({begin, end, &slot->first});
  }

  // Empty tensors occupy no bytes, so they cannot overlap anything.
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (size_t i = 1; i < spans.size(); ++i) {
    const Span& a = spans[i - 1];
    const Span& b = spans[i];
    if (b.begin < a.end) {
      input_error("{}: tensors {} [{}, {}] and {} [{}, {}] overlap", path, *a.name, a.begin, a.end, *b.name, b.begin,
                  b.end);
    }
  }
  return file;
}

SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;
SafetensorsFile::~SafetensorsFile() = default;

bool SafetensorsFile::contains(const std::string& name) const { return tensors_.count(name) != 0; }

const TensorView& SafetensorsFile::get(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) input_error("{}: tensor {} not found", path_, name);
  return it->second;
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  out.reserve(tensors_.size());
  for (const auto& kv : tensors_) out.push_back(kv.first);
  return out;
}

// ---- conversion

namespace {

float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf / nan (payload kept)
  } else if (exp != 0) {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;  // signed zero
  } else {
    // Subnormal half: value = mant * 2^-24, exact in float.
    float v = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -v : v;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float bf16_to_f32(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

}  // namespace

std::vector<float> to_float32(const TensorView& view) {
  const size_t n = static_cast<size_t>(view.numel());
  std::vector<float> out(n);
  const auto* src = static_cast<const unsigned char*>(view.data);
  switch (view.dtype) {
    case DType::F32:
      if (n) std::memcpy(out.data(), src, n * 4);
      break;
    case DType::F64:
      for (size_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, src + 8 * i, 8);
        out[i] = static_cast<float>(d);
      }
      break;
    case DType::F16:
    case DType::BF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        out[i] = view.dtype == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
      }
      break;
    default:
      input_error("tensor {}: dtype {} is not a float dtype (expected F32, F16, BF16 or F64)", view.name,
                  dtype_name(view.dtype));
  }
  return out;
}

// ---- hashing

std::string sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) input_error("{}: cannot open for hashing ({})", path, std::strerror(errno));
  Sha256 sha;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const std::streamsize got = in.gcount();
    if (got > 0) sha.update(buf.data(), static_cast<size_t>(got));
  }
  if (in.bad()) input_error("{}: read error while hashing", path);
  return sha.hex();
}

}  // namespace hs::model
