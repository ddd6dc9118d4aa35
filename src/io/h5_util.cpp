#include "io/h5_util.h"

#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/error.h"

namespace hs::io {

H5Handle open_read_only(const std::string& path, const std::string& kind) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) input_error("{}: no such file", path);
  if (std::filesystem::is_directory(path, ec)) input_error("{}: is a folder, not {}", path, kind);
  if (H5Fis_hdf5(path.c_str()) <= 0) input_error("{}: not an HDF5 file", path);
  H5Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!file.valid()) {
    const std::string detail = h5_error_detail();
    input_error("{}: cannot open: {}{}", path, detail,
                h5_lock_failure(detail) ? " (is a run still writing it? HDF5_USE_FILE_LOCKING=FALSE reads it anyway)" : "");
  }
  return file;
}

std::string h5_file_name(hid_t loc) {
  const ssize_t n = H5Fget_name(loc, nullptr, 0);
  if (n <= 0) return "(HDF5 file)";
  std::string name(static_cast<size_t>(n), '\0');
  H5Fget_name(loc, name.data(), name.size() + 1);
  return name;
}

void h5_fail_at(hid_t loc, const std::string& what) {
  const std::string detail = h5_error_detail();  // before h5_file_name, an HDF5 call, clears the stack
  h5_fail(h5_file_name(loc), what, detail);
}

namespace {

hid_t check(hid_t id, hid_t loc, const std::string& what) {
  if (id < 0) h5_fail_at(loc, what);
  return id;
}

H5Handle simple_space(const std::vector<hsize_t>& dims) {
  if (dims.empty()) return H5Handle(H5Screate(H5S_SCALAR));
  return H5Handle(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
}

H5Handle open_attr(hid_t loc, const std::string& name) {
  if (H5Aexists(loc, name.c_str()) <= 0) h5_fail_at(loc, "attribute " + name + " is missing");
  return H5Handle(check(H5Aopen(loc, name.c_str(), H5P_DEFAULT), loc, "cannot open attribute " + name));
}

void put_attr(hid_t loc, const std::string& name, hid_t type, const std::vector<hsize_t>& dims,
              const void* data) {
  if (H5Aexists(loc, name.c_str()) > 0) H5Adelete(loc, name.c_str());
  H5Handle space = simple_space(dims);
  H5Handle attr(check(H5Acreate2(loc, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT), loc,
                      "cannot create attribute " + name));
  check(H5Awrite(attr.get(), type, data), loc, "cannot write attribute " + name);
}

// Reads the string(s) of an attribute or dataset of either string kind, so files edited by other
// tools (fixed-length strings) still read.
template <class ReadFn>
std::vector<std::string> read_string_items(hid_t loc, hid_t obj_type, hsize_t n, ReadFn read,
                                           const std::string& what) {
  std::vector<std::string> out;
  if (H5Tget_class(obj_type) != H5T_STRING) h5_fail_at(loc, what + " is not a string");
  if (n == 0) return out;
  if (H5Tis_variable_str(obj_type) > 0) {
    H5Handle mem = utf8_string_type();
    std::vector<char*> ptrs(n, nullptr);
    check(read(mem.get(), ptrs.data()), loc, "cannot read " + what);
    for (char* p : ptrs) out.emplace_back(p ? p : "");
    H5Handle space(H5Screate_simple(1, &n, nullptr));
    H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, ptrs.data());
  } else {
    const size_t size = H5Tget_size(obj_type);
    H5Handle mem(H5Tcopy(H5T_C_S1));
    H5Tset_size(mem.get(), size);
    // Null-padded in memory, as numpy's bytes arrays are in the file: C_S1's null termination would
    // give a string that fills its width one byte less.
    H5Tset_strpad(mem.get(), H5T_STR_NULLPAD);
    std::vector<char> buf(size * n);
    check(read(mem.get(), buf.data()), loc, "cannot read " + what);
    for (hsize_t i = 0; i < n; ++i) {
      const char* p = buf.data() + i * size;
      size_t len = 0;
      while (len < size && p[len] != '\0') ++len;
      out.emplace_back(p, len);
    }
  }
  return out;
}

hsize_t element_count(hid_t space) {
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  return n < 0 ? 0 : static_cast<hsize_t>(n);
}

// A single-element attribute of class cls, read as mem_type; kind names it in the error.
template <typename T>
T read_attr_scalar(hid_t loc, const std::string& name, H5T_class_t cls, hid_t mem_type, const char* kind) {
  H5Handle attr = open_attr(loc, name);
  H5Handle type(H5Aget_type(attr.get()));
  H5Handle space(H5Aget_space(attr.get()));
  if (H5Tget_class(type.get()) != cls || element_count(space.get()) != 1)
    h5_fail_at(loc, "attribute " + name + " is not a single " + kind);
  T v = 0;
  check(H5Aread(attr.get(), mem_type, &v), loc, "cannot read attribute " + name);
  return v;
}

}  // namespace

H5Handle utf8_string_type() {
  H5Handle t(H5Tcopy(H5T_C_S1));
  H5Tset_size(t.get(), H5T_VARIABLE);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  return t;
}

void write_attr(hid_t loc, const std::string& name, const std::string& value) {
  H5Handle t = utf8_string_type();
  const char* p = value.c_str();
  put_attr(loc, name, t.get(), {}, &p);
}

void write_attr(hid_t loc, const std::string& name, const char* value) {
  write_attr(loc, name, std::string(value));
}

void write_attr(hid_t loc, const std::string& name, int64_t value) {
  put_attr(loc, name, H5T_NATIVE_INT64, {}, &value);
}

void write_attr(hid_t loc, const std::string& name, double value) {
  put_attr(loc, name, H5T_NATIVE_DOUBLE, {}, &value);
}

void write_attr(hid_t loc, const std::string& name, const std::vector<std::string>& values) {
  H5Handle t = utf8_string_type();
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  put_attr(loc, name, t.get(), {values.size()}, ptrs.data());
}

void update_attr(hid_t loc, const std::string& name, int64_t value) {
  H5Handle attr = open_attr(loc, name);
  check(H5Awrite(attr.get(), H5T_NATIVE_INT64, &value), loc, "cannot write attribute " + name);
}

bool has_attr(hid_t loc, const std::string& name) { return H5Aexists(loc, name.c_str()) > 0; }

std::vector<std::string> read_attr_strings(hid_t loc, const std::string& name) {
  H5Handle attr = open_attr(loc, name);
  H5Handle type(H5Aget_type(attr.get()));
  H5Handle space(H5Aget_space(attr.get()));
  return read_string_items(
      loc, type.get(), element_count(space.get()),
      [&](hid_t mem, void* buf) { return H5Aread(attr.get(), mem, buf); }, "attribute " + name);
}

std::string read_attr_string(hid_t loc, const std::string& name) {
  const auto items = read_attr_strings(loc, name);
  if (items.size() != 1) h5_fail_at(loc, "attribute " + name + " is not a single string");
  return items[0];
}

int64_t read_attr_int(hid_t loc, const std::string& name) {
  return read_attr_scalar<int64_t>(loc, name, H5T_INTEGER, H5T_NATIVE_INT64, "integer");
}

double read_attr_double(hid_t loc, const std::string& name) {
  return read_attr_scalar<double>(loc, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, "number");
}

bool has_link(hid_t loc, const std::string& name) { return H5Lexists(loc, name.c_str(), H5P_DEFAULT) > 0; }

H5Handle create_group(hid_t loc, const std::string& name, const std::string& description) {
  H5Handle g(check(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), loc,
                   "cannot create group " + name));
  write_attr(g.get(), "description", description);
  return g;
}

H5Handle create_dataset(hid_t loc, const DatasetSpec& spec) {
  H5Handle space = simple_space(spec.dims);
  H5Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  if (!spec.chunk.empty()) {
    check(H5Pset_chunk(dcpl.get(), static_cast<int>(spec.chunk.size()), spec.chunk.data()), loc,
          "cannot chunk " + spec.name);
    if (spec.compress && H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
      H5Pset_shuffle(dcpl.get());
      H5Pset_deflate(dcpl.get(), 4);
    }
    if (spec.fill) {
      check(H5Pset_fill_value(dcpl.get(), H5T_NATIVE_DOUBLE, &*spec.fill), loc,
            "cannot set the fill value of " + spec.name);
    }
  }
  H5Handle d(check(H5Dcreate2(loc, spec.name.c_str(), spec.type, space.get(), H5P_DEFAULT,
                              dcpl.get(), H5P_DEFAULT),
                   loc, "cannot create dataset " + spec.name));
  write_attr(d.get(), "description", spec.description);
  return d;
}

H5Handle open_dataset(hid_t loc, const std::string& name) {
  if (H5Lexists(loc, name.c_str(), H5P_DEFAULT) <= 0) h5_fail_at(loc, "dataset /" + name + " is missing");
  return H5Handle(check(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), loc, "cannot open dataset " + name));
}

void write_all(hid_t dset, hid_t mem_type, const void* data) {
  check(H5Dwrite(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), dset, "cannot write a dataset");
}

void read_all(hid_t dset, hid_t mem_type, void* data) {
  check(H5Dread(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), dset, "cannot read a dataset");
}

std::string shape_text(const std::vector<hsize_t>& dims) {
  return "(" + fmt::format("{}", fmt::join(dims, ", ")) + (dims.size() == 1 ? ",)" : ")");
}

size_t dataset_values(const std::vector<hsize_t>& dims) {
  uint64_t n = 1;
  for (hsize_t d : dims) {
    if (d != 0 && n > kMaxDatasetValues / d)
      throw std::runtime_error(fmt::format("shape {} holds more than 2^31 values", shape_text(dims)));
    n *= d;
  }
  if (n > kMaxDatasetValues)
    throw std::runtime_error(fmt::format("shape {} holds more than 2^31 values", shape_text(dims)));
  return static_cast<size_t>(n);
}

std::vector<hsize_t> dataset_dims(hid_t dset) {
  H5Handle space(H5Dget_space(dset));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(rank > 0 ? rank : 0);
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return dims;
}

namespace {

template <class Fn>
void with_block(hid_t dset, const std::vector<hsize_t>& start, const std::vector<hsize_t>& count,
                Fn fn) {
  H5Handle file_space(H5Dget_space(dset));
  check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                            nullptr),
        dset, "cannot select a block");
  H5Handle mem_space(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr));
  fn(mem_space.get(), file_space.get());
}

}  // namespace

void write_block(hid_t dset, hid_t mem_type, const std::vector<hsize_t>& start,
                 const std::vector<hsize_t>& count, const void* data) {
  with_block(dset, start, count, [&](hid_t mem, hid_t file) {
    check(H5Dwrite(dset, mem_type, mem, file, H5P_DEFAULT, data), dset, "cannot write a dataset row");
  });
}

void read_block(hid_t dset, hid_t mem_type, const std::vector<hsize_t>& start,
                const std::vector<hsize_t>& count, void* data) {
  with_block(dset, start, count, [&](hid_t mem, hid_t file) {
    check(H5Dread(dset, mem_type, mem, file, H5P_DEFAULT, data), dset, "cannot read a dataset row");
  });
}

void write_strings(hid_t dset, const std::vector<std::string>& values) {
  H5Handle t = utf8_string_type();
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  if (!ptrs.empty()) write_all(dset, t.get(), ptrs.data());
}

std::vector<std::string> read_strings(hid_t dset) {
  H5Handle type(H5Dget_type(dset));
  H5Handle space(H5Dget_space(dset));
  return read_string_items(
      dset, type.get(), element_count(space.get()),
      [&](hid_t mem, void* buf) { return H5Dread(dset, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf); },
      "a string dataset");
}

}  // namespace hs::io
