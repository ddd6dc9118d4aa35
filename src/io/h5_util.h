#pragma once
// Small typed helpers over the HDF5 C API for what the results file needs: scalar and string
// attributes, 1-D to 3-D datasets, variable-length UTF-8 strings. Internal to io/.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/h5_handle.h"

namespace hs::io {

// Opens `path` read-only, or throws InputError "PATH: ..." saying why: missing, a folder (`kind` names
// what was expected, e.g. "a results file"), not HDF5, or HDF5's own reason, with a hint when the
// file is locked by a writer. Call it under H5Quiet.
H5Handle open_read_only(const std::string& path, const std::string& kind);

// The file an id belongs to, for messages.
std::string h5_file_name(hid_t loc);
[[noreturn]] void h5_fail_at(hid_t loc, const std::string& what);

// Variable-length UTF-8 strings: h5py reads them as str without a decode step.
H5Handle utf8_string_type();

void write_attr(hid_t loc, const std::string& name, const std::string& value);
void write_attr(hid_t loc, const std::string& name, const char* value);
void write_attr(hid_t loc, const std::string& name, int64_t value);
void write_attr(hid_t loc, const std::string& name, double value);
void write_attr(hid_t loc, const std::string& name, const std::vector<std::string>& values);

// Overwrites an existing integer attribute in place (no delete and re-create).
void update_attr(hid_t loc, const std::string& name, int64_t value);

bool has_attr(hid_t loc, const std::string& name);
std::string read_attr_string(hid_t loc, const std::string& name);
int64_t read_attr_int(hid_t loc, const std::string& name);
double read_attr_double(hid_t loc, const std::string& name);
bool has_link(hid_t loc, const std::string& name);
std::vector<std::string> read_attr_strings(hid_t loc, const std::string& name);

struct DatasetSpec {
  std::string name;  // path relative to loc, e.g. "scores/accuracy"
  hid_t type;        // file type, e.g. H5T_STD_U8LE
  std::vector<hsize_t> dims;
  std::vector<hsize_t> chunk;        // empty: contiguous
  std::optional<double> fill;        // fill value of never-written elements (chunked only)
  bool compress = false;             // shuffle + deflate, when chunked and the filter exists
  std::string description;           // stored as the `description` attribute
};

H5Handle create_dataset(hid_t loc, const DatasetSpec& spec);
H5Handle open_dataset(hid_t loc, const std::string& name);  // throws when missing
H5Handle create_group(hid_t loc, const std::string& name, const std::string& description);

// Whole-dataset I/O; `mem_type` is the native type of `data`.
void write_all(hid_t dset, hid_t mem_type, const void* data);
void read_all(hid_t dset, hid_t mem_type, void* data);
// One block [start, start + count) of a dataset.
void write_block(hid_t dset, hid_t mem_type, const std::vector<hsize_t>& start,
                 const std::vector<hsize_t>& count, const void* data);
void read_block(hid_t dset, hid_t mem_type, const std::vector<hsize_t>& start,
                const std::vector<hsize_t>& count, void* data);

std::vector<hsize_t> dataset_dims(hid_t dset);
// The number of values of a dataset of shape `dims`. A shape whose count overflows or exceeds
// kMaxDatasetValues (2^31, far above any results or mask file headsweep writes) is refused with
// std::runtime_error naming it: an HDF5 file can declare any shape, stored sparsely in a few bytes.
inline constexpr uint64_t kMaxDatasetValues = uint64_t{1} << 31;
size_t dataset_values(const std::vector<hsize_t>& dims);
std::string shape_text(const std::vector<hsize_t>& dims);  // as numpy prints it: "(2, 6, 12)", "(5,)"
void write_strings(hid_t dset, const std::vector<std::string>& values);
std::vector<std::string> read_strings(hid_t dset);

}  // namespace hs::io
