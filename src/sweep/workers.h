#pragma once
// Batches are independent, so the executors spread them over worker threads, each running
// single-threaded GEMMs, rather than giving one batch several intra-op threads: on 2 cores, two
// intra-op threads sped the trie up by only 1.22x, with libtorch's OpenMP pool and OpenBLAS's own
// pool spinning against each other (docs/performance.md).
#include <cstddef>
#include <functional>

#include <c10/core/Device.h>

namespace hs::sweep {

// How the current compute threads (model::compute_threads()) are split for n independent items:
// min(threads, n) workers, each with threads / workers intra-op threads.
struct WorkerSplit {
  int workers = 1;
  int threads_each = 1;
};
WorkerSplit split_threads(int threads, size_t n_items);

// Host threads that share the batches on a CUDA device, each launching on its own stream: while one
// waits for the GPU (a copy back to the host) or spends host time between launches, the other's
// kernels keep the GPU busy. Process-wide; at least 1, default 2.
void set_gpu_streams(int n);
int gpu_streams();

// The workers parallel_items runs n items on: on the CPU split_threads(compute threads, n).workers,
// on CUDA min(gpu_streams(), n); at least 1.
int worker_count(const c10::Device& device, size_t n_items);

// Calls fn(item) for item 0..n-1, items taken in order by whichever worker is free: the calling
// thread and threads of a pool that lives as long as the process. With one worker (or when called
// from a worker) fn runs on the calling thread. Otherwise, on the CPU, the process's compute threads
// are set to threads_each while the workers run and restored afterwards; on CUDA, the caller's
// queued work is waited for and each worker launches on a stream of its own, waited for before this
// returns. libtorch's inference mode is carried into the workers. The first exception thrown by fn
// stops the remaining items and is rethrown here; so does a stop asked for by a signal
// (sweep/stop.h), checked before each item.
void parallel_items(size_t n, const std::function<void(size_t item)>& fn,
                    const c10::Device& device = c10::Device(c10::kCPU));

}  // namespace hs::sweep
