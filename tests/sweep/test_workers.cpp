// parallel_items: every item exactly once, thread settings restored, errors carried back, inference
// mode carried into the workers.
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <catch2/catch.hpp>

#include "model/threads.h"
#include "sweep/workers.h"

using hs::sweep::parallel_items;
using hs::sweep::split_threads;

namespace {

// Sets the compute threads for one test and puts back what was there.
struct Threads {
  explicit Threads(int n) : saved(hs::model::compute_threads()) { hs::model::set_compute_threads(n); }
  ~Threads() { hs::model::set_compute_threads(saved); }
  int saved;
};

}  // namespace

CATCH_TEST_CASE("split_threads: workers for the items, leftover threads inside each", "[sweep][workers]") {
  CATCH_CHECK(split_threads(1, 100).workers == 1);
  CATCH_CHECK(split_threads(4, 100).workers == 4);
  CATCH_CHECK(split_threads(4, 100).threads_each == 1);
  CATCH_CHECK(split_threads(8, 3).workers == 3);
  CATCH_CHECK(split_threads(8, 3).threads_each == 2);
  CATCH_CHECK(split_threads(8, 0).workers == 1);
  CATCH_CHECK(split_threads(0, 5).workers == 1);
}

CATCH_TEST_CASE("parallel_items runs every item once and restores the thread count", "[sweep][workers]") {
  Threads t(3);
  std::vector<std::atomic<int>> hits(101);
  std::atomic<int> inside_threads{0};
  parallel_items(hits.size(), [&](size_t i) {
    ++hits[i];
    inside_threads = hs::model::compute_threads();
  });
  for (size_t i = 0; i < hits.size(); ++i) CATCH_CHECK(hits[i] == 1);
  CATCH_CHECK(inside_threads == 1);  // 3 workers, one thread each
  CATCH_CHECK(hs::model::compute_threads() == 3);
  parallel_items(0, [&](size_t) { CATCH_FAIL("no items, no calls"); });
}

CATCH_TEST_CASE("parallel_items rethrows a worker's error and stops", "[sweep][workers]") {
  Threads t(2);
  std::atomic<int> calls{0};
  CATCH_CHECK_THROWS_WITH(parallel_items(1000,
                                         [&](size_t i) {
                                           ++calls;
                                           if (i == 3) throw std::runtime_error("item 3 failed");
                                           // Slow items, so the failure is seen long before the end.
                                           std::this_thread::sleep_for(std::chrono::milliseconds(1));
                                         }),
                          "item 3 failed");
  CATCH_CHECK(calls < 1000);
  CATCH_CHECK(hs::model::compute_threads() == 2);
}

CATCH_TEST_CASE("parallel_items called from a worker runs inline", "[sweep][workers]") {
  Threads t(2);
  std::vector<std::atomic<int>> hits(6 * 5);
  parallel_items(6, [&](size_t i) { parallel_items(5, [&](size_t j) { ++hits[i * 5 + j]; }); });
  for (auto& h : hits) CATCH_CHECK(h == 1);
  // The pool is reused: many calls, no new threads each time, same results.
  std::atomic<int> total{0};
  for (int k = 0; k < 200; ++k) parallel_items(4, [&](size_t) { ++total; });
  CATCH_CHECK(total == 800);
}

CATCH_TEST_CASE("parallel_items carries inference mode into the workers", "[sweep][workers]") {
  Threads t(2);
  std::atomic<int> enabled{0};
  {
    c10::InferenceMode guard;
    parallel_items(8, [&](size_t) { enabled += c10::InferenceMode::is_enabled(); });
  }
  CATCH_CHECK(enabled == 8);
  enabled = 0;
  parallel_items(8, [&](size_t) { enabled += c10::InferenceMode::is_enabled(); });
  CATCH_CHECK(enabled == 0);
}

CATCH_TEST_CASE("on CUDA the workers are the GPU streams, not the CPU threads", "[sweep][workers]") {
  Threads t(5);
  const int saved = hs::sweep::gpu_streams();
  CATCH_CHECK(saved == 2);  // the default
  const c10::Device gpu(c10::kCUDA, 0);
  CATCH_CHECK(hs::sweep::worker_count(gpu, 100) == 2);
  CATCH_CHECK(hs::sweep::worker_count(gpu, 1) == 1);
  CATCH_CHECK(hs::sweep::worker_count(gpu, 0) == 1);
  hs::sweep::set_gpu_streams(3);
  CATCH_CHECK(hs::sweep::worker_count(gpu, 100) == 3);
  CATCH_CHECK(hs::sweep::worker_count(c10::Device(c10::kCPU), 100) == 5);
  CATCH_CHECK_THROWS_AS(hs::sweep::set_gpu_streams(0), std::invalid_argument);
  CATCH_CHECK(hs::sweep::gpu_streams() == 3);
  hs::sweep::set_gpu_streams(saved);
}
