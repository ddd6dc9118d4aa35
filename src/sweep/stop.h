#pragma once
// Stopping a run early on SIGINT or SIGTERM (Ctrl-C; scancel and a SLURM time limit send SIGTERM).
// The first signal asks the sweep to stop at the next item boundary of parallel_items (a batch of
// an executor, a mask of the bootstrap): the items in flight finish, everything finished stays
// committed (the results file's rows and flags, a trie group's batches), and a rerun resumes. A
// second signal ends the process at once, by the signal's default action.
#include <stdexcept>

namespace hs::sweep {

class Stopped : public std::runtime_error {
 public:
  explicit Stopped(int signal);
  int signal() const { return signal_; }

 private:
  int signal_;
};

// Installs the SIGINT and SIGTERM handlers; `headsweep run` calls it before any work.
void stop_on_signals();
// Throws Stopped once a signal has asked the run to stop.
void throw_if_stopped();

}  // namespace hs::sweep
