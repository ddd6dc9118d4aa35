#pragma once
// Batches are independent, so the executors spread them over worker threads. On a few cores, W
// workers each running single-threaded GEMMs beat one worker whose GEMMs use W threads: the
// elementwise ops, softmax and small GEMMs of one batch parallelise poorly (measured on 2 cores:
// intra-op threads 1 -> 2 gave 1.22x, workers 1 -> 2 near 2x; docs/performance.md).
#include <cstddef>
#include <functional>

namespace hs::sweep {

// How the current compute threads (model::compute_threads()) are split for n independent items:
// min(threads, n) workers, each with threads / workers intra-op threads.
struct WorkerSplit {
  int workers = 1;
  int threads_each = 1;
};
WorkerSplit split_threads(int threads, size_t n_items);

// Calls fn(item) for item 0..n-1, items taken in order by whichever worker is free. With one worker
// fn runs on the calling thread. Otherwise the process's compute threads are set to threads_each
// while the workers run and restored afterwards; libtorch's inference mode is carried into the
// workers. The first exception thrown by fn stops the remaining items and is rethrown here.
void parallel_items(size_t n, const std::function<void(size_t item)>& fn);

}  // namespace hs::sweep
