#pragma once
// Reads datasets from any HDF5 file, not only results files: inputs such as mask sets written with
// h5py. HDF5 stays out of this header.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hs::io {

// An integer or boolean dataset read whole.
struct H5IntArray {
  std::vector<int64_t> dims;    // empty for a scalar dataset
  std::vector<int64_t> values;  // row-major, the product of dims values
  std::string dtype;            // as h5py names it: "uint8", "int64", "bool", ...
};

// Whether `path` is a file that HDF5 can read (by its signature, not its name).
bool is_hdf5_file(const std::string& path);

// `dataset` (e.g. "/masks" or "group/masks") of the HDF5 file at `path`. Integers of any width and
// signedness, and h5py's bool (an enum of FALSE = 0, TRUE = 1), are read as int64. Throws
// InputError "PATH: ..." when the file cannot be opened, `dataset` is missing or not a dataset,
// or it holds anything else (the message names its type, e.g. float64).
H5IntArray read_int_dataset(const std::string& path, const std::string& dataset);

// The strings of a 1-D string dataset, or nullopt when `dataset` is missing or is not strings.
// Throws InputError only when the file cannot be opened.
std::optional<std::vector<std::string>> read_string_dataset(const std::string& path,
                                                            const std::string& dataset);

}  // namespace hs::io
