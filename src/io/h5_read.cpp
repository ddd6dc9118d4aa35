#include "io/h5_read.h"

#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "io/h5_handle.h"
#include "io/h5_util.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace hs::io {

namespace {

H5Handle open_file(const std::string& path) { return open_read_only(path, "an HDF5 file"); }

// Whether every link on the way to `name` exists: H5Lexists fails, rather than saying no, when an
// intermediate group is missing.
bool link_exists(hid_t file, const std::string& name) {
  size_t pos = name.find_first_not_of('/');
  while (pos != std::string::npos && pos < name.size()) {
    const size_t slash = name.find('/', pos);
    const std::string prefix = name.substr(0, slash);
    if (H5Lexists(file, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    pos = slash == std::string::npos ? slash : name.find_first_not_of('/', slash);
  }
  return true;
}

// The dataset `name`, or an invalid handle when there is none (missing, or a group).
H5Handle open_dataset_if(hid_t file, const std::string& name) {
  if (name.find_first_not_of('/') == std::string::npos || !link_exists(file, name)) return H5Handle();
  H5Handle obj(H5Oopen(file, name.c_str(), H5P_DEFAULT));
  if (!obj.valid() || H5Iget_type(obj.get()) != H5I_DATASET) return H5Handle();
  return obj;
}

// h5py's bool is an enum over int8 with exactly FALSE = 0 and TRUE = 1.
bool is_h5py_bool(hid_t type) {
  if (H5Tget_nmembers(type) != 2) return false;
  for (unsigned i = 0; i < 2; ++i) {
    char* name = H5Tget_member_name(type, i);
    const std::string n = name ? name : "";
    H5free_memory(name);
    if (n != (i == 0 ? "FALSE" : "TRUE")) return false;
  }
  return true;
}

std::string integer_name(hid_t type) {
  return fmt::format("{}int{}", H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "", 8 * H5Tget_size(type));
}

std::string type_name(hid_t type) {
  switch (H5Tget_class(type)) {
    case H5T_INTEGER: return integer_name(type);
    case H5T_FLOAT: return fmt::format("float{}", 8 * H5Tget_size(type));
    case H5T_STRING: return "strings";
    case H5T_ENUM: {
      if (is_h5py_bool(type)) return "bool";
      H5Handle base(H5Tget_super(type));
      return "enum over " + integer_name(base.get());
    }
    case H5T_COMPOUND: return "compound records";
    case H5T_ARRAY: return "arrays";
    default: return "values of an unsupported type";
  }
}

// Reads an enum dataset through its base integer type: HDF5 converts enums only to enums.
void read_enum(hid_t dset, hid_t file_type, std::vector<int64_t>& out) {
  H5Handle mem(H5Tget_native_type(file_type, H5T_DIR_ASCEND));
  H5Handle base(H5Tget_super(mem.get()));
  const size_t size = H5Tget_size(mem.get());
  const bool is_signed = H5Tget_sign(base.get()) != H5T_SGN_NONE;
  std::vector<unsigned char> raw(out.size() * size);
  read_all(dset, mem.get(), raw.data());
  for (size_t i = 0; i < out.size(); ++i) {
    const unsigned char* p = raw.data() + i * size;
    int64_t v = 0;
    switch (size) {
      case 1: { int8_t s; uint8_t u; std::memcpy(&s, p, 1); std::memcpy(&u, p, 1); v = is_signed ? s : u; break; }
      case 2: { int16_t s; uint16_t u; std::memcpy(&s, p, 2); std::memcpy(&u, p, 2); v = is_signed ? s : u; break; }
      case 4: { int32_t s; uint32_t u; std::memcpy(&s, p, 4); std::memcpy(&u, p, 4); v = is_signed ? s : static_cast<int64_t>(u); break; }
      default: std::memcpy(&v, p, sizeof v); break;
    }
    out[i] = v;
  }
}

}  // namespace

bool is_hdf5_file(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  H5Quiet quiet;
  return H5Fis_hdf5(path.c_str()) > 0;
}

H5IntArray read_int_dataset(const std::string& path, const std::string& dataset) {
  H5Quiet quiet;
  H5Handle file = open_file(path);
  H5Handle d = open_dataset_if(file.get(), dataset);
  if (!d.valid()) input_error("{}: no dataset {}", path, dataset);
  H5Handle type(H5Dget_type(d.get()));
  H5IntArray out;
  out.dtype = type_name(type.get());
  const H5T_class_t cls = H5Tget_class(type.get());
  if (cls != H5T_INTEGER && !(cls == H5T_ENUM && out.dtype == "bool"))
    input_error("{}: dataset {} holds {}; expected integers or booleans", path, dataset, out.dtype);
  const std::vector<hsize_t> dims = dataset_dims(d.get());
  for (hsize_t n : dims) out.dims.push_back(static_cast<int64_t>(n));
  size_t count = 0;
  try {
    count = dataset_values(dims);
  } catch (const std::runtime_error& e) {
    input_error("{}: dataset {}: {}; not a mask file headsweep can read", path, dataset, e.what());
  }
  out.values.resize(count);
  if (count == 0) return out;
  try {
    if (cls == H5T_ENUM) {
      read_enum(d.get(), type.get(), out.values);
    } else {
      // Values beyond int64 saturate, which no 0/1 check lets through.
      read_all(d.get(), H5T_NATIVE_INT64, out.values.data());
    }
  } catch (const std::runtime_error& e) {
    input_error("{}: cannot read dataset {}: {}", path, dataset, e.what());
  }
  return out;
}

std::optional<std::vector<std::string>> read_string_dataset(const std::string& path,
                                                            const std::string& dataset) {
  H5Quiet quiet;
  H5Handle file = open_file(path);
  H5Handle d = open_dataset_if(file.get(), dataset);
  if (!d.valid()) return std::nullopt;
  H5Handle type(H5Dget_type(d.get()));
  if (H5Tget_class(type.get()) != H5T_STRING || dataset_dims(d.get()).size() != 1) return std::nullopt;
  try {
    return read_strings(d.get());
  } catch (const std::runtime_error&) {
    return std::nullopt;
  }
}

}  // namespace hs::io
