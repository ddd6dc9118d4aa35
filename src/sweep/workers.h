#pragma once
// Batches are independent, so the executors spread them over worker threads, each running
// single-threaded GEMMs, rather than giving one batch several intra-op threads: on 2 cores, two
// intra-op threads sped the trie up by only 1.22x, with libtorch's OpenMP pool and OpenBLAS's own
// pool spinning against each other (docs/performance.md).
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

// Calls fn(item) for item 0..n-1, items taken in order by whichever worker is free: the calling
// thread and threads of a pool that lives as long as the process. With one worker (or when called
// from a worker) fn runs on the calling thread. Otherwise the process's compute threads are set to
// threads_each while the workers run and restored afterwards; libtorch's inference mode is carried
// into the workers. The first exception thrown by fn stops the remaining items and is rethrown here.
void parallel_items(size_t n, const std::function<void(size_t item)>& fn);

}  // namespace hs::sweep
