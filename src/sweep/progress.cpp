#include "sweep/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include <fmt/format.h>

namespace hs::sweep {

ProgressMode progress_mode(const std::string& option) {
  if (option == "bar") return ProgressMode::Bar;
  if (option == "lines") return ProgressMode::Lines;
  if (option == "none") return ProgressMode::None;
  return isatty(STDERR_FILENO) ? ProgressMode::Bar : ProgressMode::Lines;
}

std::string format_duration(double s) {
  if (!std::isfinite(s)) return "?";
  const int64_t t = static_cast<int64_t>(std::llround(s));
  if (t >= 3600) return fmt::format("{}h{:02}m", t / 3600, (t % 3600) / 60);
  if (t >= 60) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

Progress::Progress(ProgressMode mode, int64_t total_masks, double total_work, double line_interval_s)
    : mode_(mode),
      total_masks_(total_masks),
      total_work_(total_work),
      line_interval_s_(line_interval_s),
      start_(Clock::now()),
      last_print_(start_) {}

std::string Progress::status_line() const {
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  const double frac = total_work_ > 0 ? std::min(1.0, work_done_ / total_work_) : 1.0;
  const double rate = elapsed > 0 ? examples_ / elapsed : 0.0;
  const double eta = frac > 0 ? elapsed * (1 - frac) / frac : NAN;
  return fmt::format("masks {}/{}  {:5.1f}%  {:.0f} examples/s  elapsed {}  ETA {}", masks_done_, total_masks_,
                     100 * frac, rate, format_duration(elapsed), format_duration(eta));
}

void Progress::maybe_print(bool force) {
  if (mode_ == ProgressMode::None) return;
  const auto now = Clock::now();
  const double since = std::chrono::duration<double>(now - last_print_).count();
  if (mode_ == ProgressMode::Bar) {
    if (!force && since < 0.2) return;
    const int width = 30;
    const double frac = total_work_ > 0 ? std::min(1.0, work_done_ / total_work_) : 1.0;
    const int fill = static_cast<int>(frac * width);
    std::fprintf(stderr, "\r[%s%s] %s\x1b[K", std::string(fill, '#').c_str(), std::string(width - fill, '.').c_str(),
                 status_line().c_str());
    std::fflush(stderr);
    printed_bar_ = true;
  } else {
    if (!force && since < line_interval_s_) return;
    std::fprintf(stderr, "progress: %s\n", status_line().c_str());
  }
  last_print_ = now;
}

void Progress::advance(double work, int64_t examples) {
  work_done_ += work;
  examples_ += examples;
  maybe_print(false);
}

void Progress::mask_done() {
  ++masks_done_;
  maybe_print(false);
}

void Progress::finish() {
  maybe_print(true);
  if (mode_ == ProgressMode::Bar && printed_bar_) std::fprintf(stderr, "\n");
}

}  // namespace hs::sweep
