#include "sweep/workers.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include <c10/core/InferenceMode.h>

#include "model/threads.h"

namespace hs::sweep {

WorkerSplit split_threads(int threads, size_t n_items) {
  WorkerSplit s;
  s.workers = static_cast<int>(std::max<size_t>(1, std::min<size_t>(std::max(threads, 1), n_items)));
  s.threads_each = std::max(1, threads / s.workers);
  return s;
}

namespace {

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

void parallel_items(size_t n, const std::function<void(size_t item)>& fn) {
  const WorkerSplit split = split_threads(model::compute_threads(), n);
  if (split.workers <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  const bool inference = c10::InferenceMode::is_enabled();
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  ThreadsScope scope(split.threads_each);
  auto work = [&] {
    c10::InferenceMode guard(inference);
    try {
      for (size_t i = next++; i < n && !failed; i = next++) fn(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      failed = true;
    }
  };
  std::vector<std::thread> threads;
  for (int w = 1; w < split.workers; ++w) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace hs::sweep
