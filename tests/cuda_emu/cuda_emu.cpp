// The fiber scheduler behind cuda_emu.h. A block's threads are ucontext fibers on the calling
// thread; a fiber runs until it waits at a collective, and the scheduler then switches straight to
// the next fiber in the schedule's order that can run, so barriers cost one switch per waiting
// thread. A thread that finds a fault throws it; the launch then ends with its message.
#include "cuda_emu.h"

#include <ucontext.h>

#if defined(__SANITIZE_ADDRESS__)
#include <pthread.h>
#include <sanitizer/common_interface_defs.h>
#define HS_EMU_ASAN 1
#endif

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace hs::emu {

Dim3 thread_idx, block_idx, block_dim, grid_dim;

namespace {

constexpr int kWarp = 32;
// Room for the largest kernel's register arrays plus the emulator's frames above them: the deepest
// any kernel test reaches is under 10 KB, with AddressSanitizer's red zones. No more than that:
// under AddressSanitizer every switch clears the marks of the whole stack it switches to.
constexpr size_t kStackBytes = 32 * 1024;
constexpr size_t kMaxSlotBytes = 64;

struct Barrier {
  int arrived = 0;
  uint64_t gen = 0;
  size_t kind = 0;  // what the waiting threads are at (bytes exchanged; ~0 for __syncthreads)
};

struct Warp {
  Barrier bar;
  int live = 0;
  unsigned char slots[2][kWarp * kMaxSlotBytes];
};

struct Copy {
  void* dst;
  const void* src;
};

struct Fiber {
  ucontext_t ctx;
  unsigned tid = 0;
  bool done = false;
  const uint64_t* wait_gen = nullptr;  // waiting until *wait_gen != wait_value
  uint64_t wait_value = 0;
  std::vector<Copy> open;                 // cp.async copies not yet committed
  std::deque<std::vector<Copy>> groups;   // committed and not yet waited for, oldest first
};

struct Block {
  std::vector<Fiber> fibers;
  std::vector<Warp> warps;
  Barrier bar;
  int live = 0;
  size_t current = 0;
  ucontext_t main;
  const std::function<void()>* body = nullptr;
  std::string error;
};

Block* g_block = nullptr;

Schedule initial_schedule() {
  const char* v = std::getenv("HEADSWEEP_EMU_SCHEDULE");
  const std::string s = v ? v : "";
  if (s.empty() || s == "forward") return Schedule::forward;
  if (s == "reverse") return Schedule::reverse;
  throw std::invalid_argument("cuda_emu: HEADSWEEP_EMU_SCHEDULE must be forward or reverse, got '" + s + "'");
}

Schedule& current_schedule() {
  static Schedule s = initial_schedule();
  return s;
}

// The fiber (or block) at position pos of n in the schedule's order; its own inverse.
size_t in_order(size_t pos, size_t n) { return current_schedule() == Schedule::forward ? pos : n - 1 - pos; }

// Fiber stacks, kept from launch to launch: allocating and first touching a stack per thread and
// block made the kernel tests spend most of their time in the kernel's page-fault handler.
std::vector<std::unique_ptr<char[]>> g_stacks;

char* stack_for(unsigned t) {
  while (g_stacks.size() <= t) g_stacks.emplace_back(new char[kStackBytes]);
  return g_stacks[t].get();
}

struct Stack {
  const void* bottom = nullptr;
  size_t size = 0;
};

Stack fiber_stack(unsigned t) { return {stack_for(t), kStackBytes}; }

// The launching thread's own stack, where the launcher's context runs.
Stack launcher_stack() {
#ifdef HS_EMU_ASAN
  thread_local const Stack s = [] {
    pthread_attr_t attr;
    void* bottom = nullptr;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      pthread_attr_getstack(&attr, &bottom, &size);
      pthread_attr_destroy(&attr);
    }
    return Stack{bottom, size};
  }();
  return s;
#else
  return {};
#endif
}

// Switches contexts. Under AddressSanitizer the switch is announced, so that it checks each fiber's
// frames against that fiber's own stack (unannounced, it warns and may report false errors);
// `for_good`: the context left is never resumed.
void switch_context(ucontext_t* from, ucontext_t* to, Stack to_stack, bool for_good = false) {
#ifdef HS_EMU_ASAN
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(for_good ? nullptr : &fake_stack, to_stack.bottom, to_stack.size);
  swapcontext(from, to);
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#else
  (void)to_stack;
  (void)for_good;
  swapcontext(from, to);
#endif
}

std::string block_name() {
  return "block (" + std::to_string(block_idx.x) + ", " + std::to_string(block_idx.y) + ", " +
         std::to_string(block_idx.z) + ")";
}

// Completes the barrier: every thread waiting at it can run again.
void release(Barrier& bar) {
  bar.arrived = 0;
  ++bar.gen;
}

bool runnable(const Fiber& f) { return !f.done && (!f.wait_gen || *f.wait_gen != f.wait_value); }

void resume(size_t i) {
  Block& b = *g_block;
  b.current = i;
  thread_idx = {b.fibers[i].tid, 0, 0};
}

// Leaves the running fiber for the next runnable one in the schedule's order (from its start
// where a barrier has just completed: the running fiber may be that one), or for the launcher when
// none is left (all done, or a deadlock, which is recorded as the launch's error).
void switch_away(bool from_start = false) {
  Block& b = *g_block;
  const size_t self = b.current, n = b.fibers.size();
  const size_t first = from_start ? 0 : in_order(self, n) + 1;
  for (size_t k = 0; k < n; ++k) {
    const size_t i = in_order((first + k) % n, n);
    if (!runnable(b.fibers[i])) continue;
    if (i == self) return;
    resume(i);
    switch_context(&b.fibers[self].ctx, &b.fibers[i].ctx, fiber_stack(b.fibers[i].tid), b.fibers[self].done);
    return;
  }
  if (b.live > 0 && b.error.empty()) {
    b.error = "deadlock: every live thread of " + block_name() + " waits at a barrier that cannot complete";
  }
  switch_context(&b.fibers[self].ctx, &b.main, launcher_stack(), true);
}

// A launch's failure, raised in the thread that finds it and caught where the thread started, so
// that the thread's frames are unwound (and what they hold freed) before the launch ends.
struct Fault {
  std::string what;
};

[[noreturn]] void fail(const std::string& what) {
  throw Fault{what + " (" + block_name() + ", thread " + std::to_string(thread_idx.x) + ")"};
}

// Arrives at bar, which completes when `expected` threads have arrived, and waits for that.
void arrive(Barrier& bar, int expected, size_t kind) {
  if (bar.arrived > 0 && bar.kind != kind) fail("threads of one warp or block at different collectives");
  bar.kind = kind;
  if (++bar.arrived == expected) {
    release(bar);
    return switch_away(true);
  }
  Fiber& f = g_block->fibers[g_block->current];
  f.wait_gen = &bar.gen;
  f.wait_value = bar.gen;
  switch_away();
  f.wait_gen = nullptr;
}

Warp& my_warp(unsigned mask) {
  Warp& w = g_block->warps[thread_idx.x / kWarp];
  if (mask != 0xffffffffu) fail("only full-warp masks are emulated");
  if (w.live != kWarp) fail("full-warp collective after a lane of the warp has exited");
  return w;
}

// The thread's kernel body, and the checks at its exit.
void run_thread(Block& b) {
  (*b.body)();
  Fiber& f = b.fibers[b.current];
  if (!f.open.empty() || !f.groups.empty()) fail("a thread exited with cp.async copies it never waited for");
  f.done = true;
  --b.live;
  Warp& w = b.warps[f.tid / kWarp];
  --w.live;
  if (w.bar.arrived > 0) fail("a lane exited while its warp waits at a full-warp collective");
}

void entry() {
#ifdef HS_EMU_ASAN
  __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);  // the switch into a new fiber ends here
#endif
  Block& b = *g_block;
  bool faulted = false;
  try {
    run_thread(b);
  } catch (Fault& fault) {
    if (b.error.empty()) b.error = std::move(fault.what);
    faulted = true;
  }
  // The launch ends at a fault. This fiber is never resumed, so nothing on its stack may own
  // memory by now: the exception and its message are gone.
  if (faulted) switch_context(&b.fibers[b.current].ctx, &b.main, launcher_stack(), true);
  // Exited threads count as arrived at __syncthreads.
  const bool released = b.bar.arrived > 0 && b.bar.arrived == b.live;
  if (released) release(b.bar);
  switch_away(released);
}

void run_block(const dim3& block, const std::function<void()>& body) {
  Block b;
  const unsigned n = block.x * block.y * block.z;
  if (block.y != 1 || block.z != 1) throw std::invalid_argument("cuda_emu: only 1-D blocks are emulated");
  b.body = &body;
  b.live = static_cast<int>(n);
  b.fibers.resize(n);
  b.warps.resize((n + kWarp - 1) / kWarp);
  for (unsigned t = 0; t < n; ++t) {
    b.warps[t / kWarp].live++;
    Fiber& f = b.fibers[t];
    f.tid = t;
    getcontext(&f.ctx);
    f.ctx.uc_stack.ss_sp = stack_for(t);
    f.ctx.uc_stack.ss_size = kStackBytes;
    f.ctx.uc_link = nullptr;
    makecontext(&f.ctx, entry, 0);
  }
  g_block = &b;
  const size_t first = in_order(0, n);
  resume(first);
  switch_context(&b.main, &b.fibers[first].ctx, fiber_stack(b.fibers[first].tid));
  g_block = nullptr;
  if (!b.error.empty()) throw std::runtime_error("cuda_emu: " + b.error);
  if (b.live != 0) throw std::runtime_error("cuda_emu: launch returned with live threads");
}

template <typename T>
float half_of(uint32_t reg, int which) {
  const uint16_t bits = static_cast<uint16_t>(which ? reg >> 16 : reg & 0xffffu);
  return static_cast<float>(*reinterpret_cast<const T*>(&bits));
}

}  // namespace

void run_grid(dim3 grid, dim3 block, const std::function<void()>& body) {
  if (g_block) throw std::logic_error("cuda_emu: launch from inside a kernel");
  grid_dim = {grid.x, grid.y, grid.z};
  block_dim = {block.x, block.y, block.z};
  const size_t blocks = static_cast<size_t>(grid.x) * grid.y * grid.z;
  for (size_t k = 0; k < blocks; ++k) {
    const size_t i = in_order(k, blocks);
    block_idx = {static_cast<unsigned>(i % grid.x), static_cast<unsigned>(i / grid.x % grid.y),
                 static_cast<unsigned>(i / grid.x / grid.y)};
    run_block(block, body);
  }
}

void set_schedule(Schedule s) { current_schedule() = s; }
Schedule schedule() { return current_schedule(); }

void sync_block() {
  Block& b = *g_block;
  arrive(b.bar, b.live, ~size_t{0});
}

void sync_warp(unsigned mask) { arrive(my_warp(mask).bar, kWarp, 0); }

void warp_exchange(unsigned mask, const void* in, size_t bytes, const std::function<void(const unsigned char*)>& read) {
  if (bytes == 0 || bytes > kMaxSlotBytes) fail("warp exchange of an unsupported size");
  Warp& w = my_warp(mask);
  unsigned char* slots = w.slots[w.bar.gen & 1];
  std::memcpy(slots + (thread_idx.x % kWarp) * bytes, in, bytes);
  arrive(w.bar, kWarp, bytes);
  read(slots);
}

// Fragments (PTX ISA, mma.m16n8k16 .row.col with 16-bit inputs): lane = 4·group + tig.
//   A (16×16): register r holds row group + 8·(r % 2), columns 2·tig + 8·(r / 2) + {0, 1}.
//   B (16×8):  register r holds rows 2·tig + 8·r + {0, 1}, column group.
//   C, D (16×8, fp32): element i is row group + 8·(i / 2), column 2·tig + i % 2.
// The low half of a register is the element with the smaller index.
template <typename T>
void mma_m16n8k16(float d[4], const uint32_t a[4], const uint32_t b[2], const float c[4]) {
  struct Frag {
    uint32_t a[4], b[2];
  };
  Frag mine;
  std::memcpy(mine.a, a, sizeof(mine.a));
  std::memcpy(mine.b, b, sizeof(mine.b));
  float acc[4] = {c[0], c[1], c[2], c[3]};
  const int lane = static_cast<int>(thread_idx.x % kWarp), group = lane / 4, tig = lane % 4;
  warp_exchange(0xffffffffu, &mine, sizeof(Frag), [&](const unsigned char* slots) {
    auto frag = [&](int l) {
      Frag f;
      std::memcpy(&f, slots + static_cast<size_t>(l) * sizeof(Frag), sizeof(Frag));
      return f;
    };
    auto a_at = [&](int row, int k) {
      return half_of<T>(frag((row % 8) * 4 + (k % 8) / 2).a[row / 8 + 2 * (k / 8)], k % 2);
    };
    auto b_at = [&](int k, int col) { return half_of<T>(frag(col * 4 + (k % 8) / 2).b[k / 8], k % 2); };
    for (int i = 0; i < 4; ++i) {
      const int row = group + 8 * (i / 2), col = 2 * tig + i % 2;
      float s = acc[i];
      for (int k = 0; k < 16; ++k) s = std::fma(a_at(row, k), b_at(k, col), s);
      d[i] = s;
    }
  });
}

namespace {

LdmatrixStats g_ldmatrix;

// The wavefronts one 8-row request takes (cuda_emu_stats.h): the most distinct 16-byte rows on
// one of the eight 4-bank groups.
uint64_t ldmatrix_wavefronts(const uint16_t* const rows[8]) {
  std::uintptr_t distinct[8];
  int n = 0;
  for (int j = 0; j < 8; ++j) {
    const auto at = reinterpret_cast<std::uintptr_t>(rows[j]);
    if (std::find(distinct, distinct + n, at) == distinct + n) distinct[n++] = at;
  }
  uint64_t per_group[8] = {};
  for (int j = 0; j < n; ++j) ++per_group[(distinct[j] >> 4) & 7];
  return *std::max_element(per_group, per_group + 8);
}

}  // namespace

void check_aligned(const void* p, size_t bytes, const char* what) {
  if (reinterpret_cast<std::uintptr_t>(p) % bytes != 0) {
    fail(std::to_string(bytes) + "-byte " + what + " at a misaligned address");
  }
}

void cp_async_16(void* dst, const void* src) {
  check_aligned(dst, 16, "cp.async destination");
  check_aligned(src, 16, "cp.async source");
  g_block->fibers[g_block->current].open.push_back({dst, src});
  std::memset(dst, 0xff, 16);  // all-ones halves are NaN in fp16 and bf16, all-ones words in fp32
}

void cp_async_commit() {
  Fiber& f = g_block->fibers[g_block->current];
  f.groups.push_back(std::move(f.open));
  f.open.clear();
}

void cp_async_wait(int pending) {
  Fiber& f = g_block->fibers[g_block->current];
  while (static_cast<int>(f.groups.size()) > pending) {
    for (const Copy& c : f.groups.front()) std::memcpy(c.dst, c.src, 16);
    f.groups.pop_front();
  }
}

LdmatrixStats ldmatrix_stats() { return g_ldmatrix; }
void reset_ldmatrix_stats() { g_ldmatrix = {}; }

void ldmatrix_x4(uint32_t r[4], const void* row, bool trans) {
  check_aligned(row, 16, "ldmatrix row");
  const auto* mine = static_cast<const uint16_t*>(row);
  const int lane = static_cast<int>(thread_idx.x % kWarp), group = lane / 4, tig = lane % 4;
  warp_exchange(0xffffffffu, &mine, sizeof(mine), [&](const unsigned char* slots) {
    for (int i = 0; i < 4; ++i) {
      auto row_of = [&](int j) {
        const uint16_t* p;
        std::memcpy(&p, slots + static_cast<size_t>(8 * i + j) * sizeof(p), sizeof(p));
        return p;
      };
      if (lane == 0) {  // every lane sees the same addresses: count the request once
        const uint16_t* rows[8];
        for (int j = 0; j < 8; ++j) rows[j] = row_of(j);
        g_ldmatrix.matrices += 1;
        g_ldmatrix.wavefronts += ldmatrix_wavefronts(rows);
      }
      const uint16_t lo = trans ? row_of(2 * tig)[group] : row_of(group)[2 * tig];
      const uint16_t hi = trans ? row_of(2 * tig + 1)[group] : row_of(group)[2 * tig + 1];
      r[i] = static_cast<uint32_t>(lo) | static_cast<uint32_t>(hi) << 16;
    }
  });
}

template void mma_m16n8k16<__half>(float*, const uint32_t*, const uint32_t*, const float*);
template void mma_m16n8k16<__nv_bfloat16>(float*, const uint32_t*, const uint32_t*, const float*);

}  // namespace hs::emu
