#pragma once
// Read-only, memory-mapped safetensors reader (https://huggingface.co/docs/safetensors).
// Layout: u64 little-endian header length N, N bytes of JSON, then the data buffer; every tensor's
// data_offsets are relative to the start of that buffer. open() validates the whole header up front so
// that later stages can trust every TensorView; the views point into the mapping and stay valid for the
// lifetime of the SafetensorsFile they came from (moving the file keeps them valid).
//
// Torch-free on purpose: the model loader turns TensorViews into tensors.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace hs::model {

enum class DType { F32, F16, BF16, F64, I64, I32, I16, I8, U8, Bool };

// Bytes per element.
size_t dtype_size(DType dtype);
// The safetensors spelling: "F32", "BF16", "BOOL", ...
const char* dtype_name(DType dtype);

struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;  // empty for a scalar
  // Points into the mapping. Not necessarily aligned to the element size: writers pad the header to
  // 8 bytes, but the format does not require it, so copy (memcpy) rather than dereference when unsure.
  const void* data = nullptr;
  size_t nbytes = 0;
  int64_t numel() const;
};

class SafetensorsFile {
 public:
  // Maps the file read-only and validates the header; throws hs::InputError naming the file (and the
  // tensor) on any inconsistency.
  static SafetensorsFile open(const std::string& path);

  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;
  ~SafetensorsFile();

  const std::string& path() const { return path_; }
  bool contains(const std::string& name) const;
  // Throws hs::InputError "PATH: tensor NAME not found".
  const TensorView& get(const std::string& name) const;
  // Tensor names, sorted (the "__metadata__" entry is not a tensor).
  std::vector<std::string> names() const;
  size_t size() const { return tensors_.size(); }
  // The optional "__metadata__" string map (e.g. {"format": "pt"}).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  struct Mapping;
  SafetensorsFile() = default;

  std::string path_;
  std::unique_ptr<Mapping> mapping_;
  std::map<std::string, TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

// Copies a float tensor (F32, F16, BF16 or F64) into float32; any other dtype throws hs::InputError
// naming the tensor. Meant for fixtures and small tensors: the model loader converts on device.
std::vector<float> to_float32(const TensorView& view);

// Lower-case hex SHA-256 of a file, read in chunks (checkpoints can be several GB). Recorded with the
// results so that a number can be traced to the exact weights that produced it.
std::string sha256_file(const std::string& path);

}  // namespace hs::model
