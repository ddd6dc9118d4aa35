#include "sweep/workers.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include <c10/core/InferenceMode.h>

#include "model/threads.h"
#include "ops/cuda_ops.h"
#include "sweep/stop.h"

namespace hs::sweep {

WorkerSplit split_threads(int threads, size_t n_items) {
  WorkerSplit s;
  s.workers = static_cast<int>(std::max<size_t>(1, std::min<size_t>(std::max(threads, 1), n_items)));
  s.threads_each = std::max(1, threads / s.workers);
  return s;
}

namespace {

thread_local bool in_worker = false;
std::atomic<int> n_gpu_streams{2};

// Worker threads that live as long as the process, rather than started per call (once per trie
// group, once per mask in the naive executor): each new thread would also get fresh allocator
// arenas and BLAS buffers.
class Pool {
 public:
  // Runs work() on `extra` pool threads and on the calling thread; returns when all are done.
  void run(int extra, const std::function<void()>& work) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (static_cast<int>(threads_.size()) < extra) {
      const size_t index = threads_.size();
      threads_.emplace_back([this, index] { loop(index); });
    }
    job_ = &work;
    wanted_ = extra;
    active_ = extra;
    ++generation_;
    lock.unlock();
    wake_.notify_all();
    work();
    lock.lock();
    finished_.wait(lock, [&] { return active_ == 0; });
    job_ = nullptr;
  }

 private:
  void loop(size_t index) {
    in_worker = true;
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      wake_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
      if (static_cast<int>(index) >= wanted_) continue;
      const std::function<void()>* job = job_;
      lock.unlock();
      (*job)();
      lock.lock();
      if (--active_ == 0) finished_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_, finished_;
  std::vector<std::thread> threads_;
  const std::function<void()>* job_ = nullptr;
  uint64_t generation_ = 0;
  int wanted_ = 0;
  int active_ = 0;
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: its threads wait until the process exits
  return *p;
}

// Sets the compute threads for the workers' lifetime; restores them even when a worker throws.
class ThreadsScope {
 public:
  explicit ThreadsScope(int n) : saved_(model::compute_threads()) { model::set_compute_threads(n); }
  ~ThreadsScope() { model::set_compute_threads(saved_); }
  ThreadsScope(const ThreadsScope&) = delete;
  ThreadsScope& operator=(const ThreadsScope&) = delete;

 private:
  int saved_;
};

}  // namespace

void set_gpu_streams(int n) {
  if (n < 1) throw std::invalid_argument("GPU streams must be at least 1");
  n_gpu_streams = n;
}

int gpu_streams() { return n_gpu_streams; }

int worker_count(const c10::Device& device, size_t n_items) {
  if (device.is_cuda()) return static_cast<int>(std::max<size_t>(1, std::min<size_t>(gpu_streams(), n_items)));
  return split_threads(model::compute_threads(), n_items).workers;
}

void parallel_items(size_t n, const std::function<void(size_t item)>& fn, const c10::Device& device) {
  const int workers = worker_count(device, n);
  if (workers <= 1 || in_worker) {  // a nested call runs inline on its worker
    for (size_t i = 0; i < n; ++i) {
      throw_if_stopped();
      fn(i);
    }
    return;
  }
  const bool gpu = device.is_cuda();
  const bool inference = c10::InferenceMode::is_enabled();
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  // The workers' streams do not wait for the caller's: its uploads (weights, inputs, gates) must
  // have landed first.
  if (gpu) ops::sync_current_stream(device);
  std::optional<ThreadsScope> scope;  // GPU workers leave the CPU threads as they are
  if (!gpu) scope.emplace(split_threads(model::compute_threads(), n).threads_each);
  std::atomic<int> slots{0};
  const std::function<void()> work = [&] {
    c10::InferenceMode guard(inference);
    const int slot = slots++;  // 0 .. workers-1, each call: the same streams every time
    try {
      const auto take_items = [&] {
        for (size_t i = next++; i < n && !failed; i = next++) {
          throw_if_stopped();
          fn(i);
        }
      };
      if (gpu) {
        ops::on_own_stream(device, slot, take_items);
      } else {
        take_items();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      failed = true;
    }
  };
  in_worker = true;  // the calling thread works too: a nested call from it must not reenter the pool
  pool().run(workers - 1, work);
  in_worker = false;
  if (error) std::rethrow_exception(error);
}

}  // namespace hs::sweep
