#include "sweep/stop.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <string>

namespace hs::sweep {

namespace {

std::atomic<int> stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler may only touch lock-free atomics");

// Only async-signal-safe calls: an atomic exchange, write, signal and raise.
void on_signal(int sig) {
  if (stop_signal.exchange(sig) != 0) {
    ::signal(sig, SIG_DFL);
    ::raise(sig);
    return;
  }
  static const char note[] =
      "\nheadsweep: stopping once the work in flight is done (what is finished is kept); signal again to stop at "
      "once\n";
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, note, sizeof note - 1);
}

}  // namespace

Stopped::Stopped(int signal)
    : std::runtime_error(std::string("stopped by ") + (signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : ::strsignal(signal))),
      signal_(signal) {}

void stop_on_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // a blocking read or write in flight goes on rather than failing with EINTR
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

void throw_if_stopped() {
  if (const int sig = stop_signal.load()) throw Stopped(sig);
}

}  // namespace hs::sweep
