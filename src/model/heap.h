#pragma once
// Heap behaviour for activation-sized allocations (docs/performance.md, "Benchmark").
namespace hs::model {

// Blocks of at least this many bytes are mmapped, and unmapped when freed.
constexpr int kHeapMmapThreshold = 4 << 20;

// glibc raises its mmap threshold to the size of each large block freed, up to 32 MiB, after which
// large tensors come from its heaps and stay there when freed: a long sweep then holds the
// high-water mark of every size it ever used (2.08x one forward's peak RSS over 10,000 random
// masks). Pinning the threshold at 4 MiB maps the large blocks (stacked continuations, big batches)
// and returns them on free, while a batch's own activations, below it, are still reused from the
// heap (1.62x, at 10% lower throughput). A threshold set through MALLOC_MMAP_THRESHOLD_ wins; other
// C libraries are left alone.
void bound_heap_retention();

}  // namespace hs::model
