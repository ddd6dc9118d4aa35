#pragma once
// Which rows of a split a run reads: the first `limit`, or `limit` drawn at random. GLUE files are
// grouped by source (STS-B's dev set opens with 625 caption pairs, its train set with 2,000), so
// the first rows of a file describe one genre, not the task.
#include <cstdint>
#include <string>

#include "data/dataset.h"

namespace hs::sweep {

// Loads `split` of `task` and keeps `limit` examples (0: all): with sample "first" the file's first
// rows (the rest is not read), with "random" rows drawn uniformly without replacement from the
// whole file (every row is read and checked), seeded by `seed`, kept in file order so that row
// indices and batches stay in file order. The same seed and file give the same rows on every
// machine (a Fisher-Yates draw on mt19937_64 with an unbiased bounded draw).
data::Dataset load_rows(const data::TaskSpec& task, const std::string& data_dir, const std::string& split,
                        int64_t limit, const std::string& sample, uint64_t seed);

}  // namespace hs::sweep
