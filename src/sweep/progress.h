#pragma once
// Progress on stderr: masks done/total, examples/s and an ETA from the work left (padded tokens still
// to run), not from the mask count, so uneven masks do not skew it. A live bar on a terminal, plain
// periodic lines otherwise (logs of batch jobs).
#include <chrono>
#include <cstdint>
#include <string>

namespace hs::sweep {

enum class ProgressMode { Bar, Lines, None };

// "auto" picks Bar when stderr is a terminal, Lines otherwise.
ProgressMode progress_mode(const std::string& option);

class Progress {
 public:
  Progress(ProgressMode mode, int64_t total_masks, double total_work, double line_interval_s = 10.0);
  void advance(double work, int64_t examples);
  void mask_done();
  void finish();
  std::string status_line() const;

 private:
  void maybe_print(bool force);
  using Clock = std::chrono::steady_clock;
  ProgressMode mode_;
  int64_t total_masks_, masks_done_ = 0;
  double total_work_, work_done_ = 0;
  int64_t examples_ = 0;
  double line_interval_s_;
  Clock::time_point start_, last_print_;
  bool printed_bar_ = false;
};

std::string format_duration(double seconds);

}  // namespace hs::sweep
