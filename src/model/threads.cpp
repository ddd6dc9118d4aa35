#include "model/threads.h"

#include <dlfcn.h>
#include <sched.h>

#include <algorithm>
#include <thread>

#include <ATen/Parallel.h>

namespace hs::model {

int available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

int set_compute_threads(int n) {
  n = n > 0 ? n : available_cores();
  at::set_num_threads(n);
  if (auto set = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(n);
  return n;
}

int compute_threads() { return at::get_num_threads(); }

}  // namespace hs::model
