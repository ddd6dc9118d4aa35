#include "model/heap.h"

#include <cstdlib>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace hs::model {

void bound_heap_retention() {
#if defined(__GLIBC__)
  // A threshold the user set in the environment wins. Setting one explicitly also stops glibc from
  // adjusting it on free.
  if (std::getenv("MALLOC_MMAP_THRESHOLD_")) return;
  mallopt(M_MMAP_THRESHOLD, kHeapMmapThreshold);
#endif
}

}  // namespace hs::model
