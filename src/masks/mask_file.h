#pragma once
// The `file` strategy: masks read from a file, whose kind is told by its content, not its name:
//   HDF5  dataset `dataset` (default /masks), integers or bools, (N, L, H) or (L, H), 1 = kept,
//         e.g. another run's results file; when that dataset is /masks and the file has a string
//         dataset /mask_names of N names (a results file), the masks keep those names, otherwise
//         mask n is "{file name}#{n}";
//   .npy  the same shapes and types (numpy.save), names "{file name}#{n}";
//   text  one mask per line, the heads it REMOVES: `L0.H3 L2.H11` (separated by spaces or commas;
//         `L3` removes all of layer 3; a leading `-` as in mask names is allowed); an empty line or
//         `-` is the baseline; `#` starts a comment. Names as removed_name() prints them.
#include <string>

#include "io/plan.h"
#include "masks/mask_set.h"

namespace hs::masks {

// The baseline, then the file's masks in file order (repeats scored once). `dataset` is read from
// HDF5 files only; "" means /masks. Every problem is an InputError naming the file and the line
// (text), the dataset, or the shape against the model's (L, H); `where` places the errors of
// sweep.path itself (missing, a folder) and of sweep.dataset at the option in the config.
MaskSet read_mask_file(const std::string& path, const std::string& dataset, int n_layers, int n_heads,
                       const io::OptionWhere& where = {});

}  // namespace hs::masks
