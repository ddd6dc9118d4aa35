#pragma once
// Reads NumPy .npy files of integers or booleans (format versions 1.0, 2.0 and 3.0, as written by
// numpy.save): the magic "\x93NUMPY", a version, a header length, then a Python dict literal with
// 'descr' (dtype), 'fortran_order' and 'shape', then the raw data.
#include <cstdint>
#include <string>
#include <vector>

namespace hs::masks {

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<int64_t> values;  // row-major (C order) whatever the file's order
  std::string descr;            // e.g. "|u1", "<i8", "|b1"
};

// Whether the file starts with the .npy magic.
bool is_npy_file(const std::string& path);

// Throws InputError "PATH: ..." for a missing or unreadable file, a malformed header, a dtype other
// than bool or (u)int8/16/32/64 in either byte order, or fewer data bytes than the shape needs.
// Unsigned values beyond int64 read as INT64_MAX.
NpyArray read_npy(const std::string& path);

}  // namespace hs::masks
