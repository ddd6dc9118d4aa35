// Progress reporting: duration formatting, the status line, and that the percentage and ETA follow
// the work done (padded tokens), not the number of masks finished.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "sweep/progress.h"

using hs::sweep::format_duration;
using hs::sweep::Progress;
using hs::sweep::ProgressMode;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using Catch::Matchers::StartsWith;

namespace {

// The text after "ETA " in a status line.
std::string eta_of(const std::string& line) {
  const size_t p = line.rfind("ETA ");
  return p == std::string::npos ? "" : line.substr(p + 4);
}

// Everything the enclosed code writes to stderr.
class StderrCapture {
 public:
  StderrCapture() {
    std::fflush(stderr);
    file_ = std::tmpfile();
    saved_ = dup(STDERR_FILENO);
    dup2(fileno(file_), STDERR_FILENO);
  }
  ~StderrCapture() { restore(); if (file_) std::fclose(file_); }
  std::string text() {
    restore();
    std::string out;
    std::rewind(file_);
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, file_)) > 0) out.append(buf, n);
    return out;
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    dup2(saved_, STDERR_FILENO);
    close(saved_);
    saved_ = -1;
  }
  std::FILE* file_ = nullptr;
  int saved_ = -1;
};

}  // namespace

CATCH_TEST_CASE("format_duration", "[sweep][progress]") {
  CATCH_CHECK(format_duration(0) == "0s");
  CATCH_CHECK(format_duration(0.4) == "0s");
  CATCH_CHECK(format_duration(0.6) == "1s");
  CATCH_CHECK(format_duration(59) == "59s");
  // Rounded before splitting, so 59.6 s never prints as "60s".
  CATCH_CHECK(format_duration(59.6) == "1m00s");
  CATCH_CHECK(format_duration(60) == "1m00s");
  CATCH_CHECK(format_duration(61) == "1m01s");
  CATCH_CHECK(format_duration(605) == "10m05s");
  CATCH_CHECK(format_duration(3599) == "59m59s");
  CATCH_CHECK(format_duration(3599.7) == "1h00m");
  CATCH_CHECK(format_duration(3600) == "1h00m");
  CATCH_CHECK(format_duration(3661) == "1h01m");
  CATCH_CHECK(format_duration(7200 + 59 * 60 + 59) == "2h59m");
  CATCH_CHECK(format_duration(100 * 3600) == "100h00m");
  CATCH_CHECK(format_duration(std::nan("")) == "?");
  CATCH_CHECK(format_duration(std::numeric_limits<double>::infinity()) == "?");
}

CATCH_TEST_CASE("progress_mode", "[sweep][progress]") {
  CATCH_CHECK(hs::sweep::progress_mode("bar") == ProgressMode::Bar);
  CATCH_CHECK(hs::sweep::progress_mode("lines") == ProgressMode::Lines);
  CATCH_CHECK(hs::sweep::progress_mode("none") == ProgressMode::None);
  const ProgressMode tty = isatty(STDERR_FILENO) ? ProgressMode::Bar : ProgressMode::Lines;
  CATCH_CHECK(hs::sweep::progress_mode("auto") == tty);
  // Under a redirected stderr (logs of batch jobs) auto means lines.
  StderrCapture cap;
  CATCH_CHECK(hs::sweep::progress_mode("auto") == ProgressMode::Lines);
}

CATCH_TEST_CASE("status line: masks, percentage, rate, elapsed and ETA", "[sweep][progress]") {
  Progress p(ProgressMode::None, 4, 1000.0);
  const std::string start = p.status_line();
  CATCH_CHECK_THAT(start, StartsWith("masks 0/4    0.0%  0 examples/s  elapsed "));
  CATCH_CHECK(eta_of(start) == "?");  // nothing done, nothing to extrapolate from

  p.advance(250.0, 30);
  const std::string quarter = p.status_line();
  CATCH_CHECK_THAT(quarter, StartsWith("masks 0/4   25.0%  "));
  CATCH_CHECK_THAT(quarter, Contains(" examples/s  elapsed "));
  CATCH_CHECK(eta_of(quarter) != "?");

  p.mask_done();
  p.advance(250.0, 30);
  CATCH_CHECK_THAT(p.status_line(), StartsWith("masks 1/4   50.0%  "));

  p.advance(500.0, 60);
  for (int i = 0; i < 3; ++i) p.mask_done();
  const std::string done = p.status_line();
  CATCH_CHECK_THAT(done, StartsWith("masks 4/4  100.0%  "));
  CATCH_CHECK(eta_of(done) == "0s");

  // Work beyond the total (a caller's estimate that was low) stays at 100%.
  p.advance(10.0, 1);
  CATCH_CHECK_THAT(p.status_line(), StartsWith("masks 4/4  100.0%  "));

  // No work at all counts as finished rather than dividing by zero.
  Progress empty(ProgressMode::None, 0, 0.0);
  CATCH_CHECK_THAT(empty.status_line(), StartsWith("masks 0/0  100.0%  "));
  CATCH_CHECK(eta_of(empty.status_line()) == "0s");
}

CATCH_TEST_CASE("percentage and ETA follow work done, not masks done", "[sweep][progress]") {
  // Masks whose passes cost different amounts: after one mask of four, the work done decides.
  Progress p(ProgressMode::None, 4, 1000.0);
  p.advance(900.0, 10);
  p.mask_done();
  CATCH_CHECK_THAT(p.status_line(), StartsWith("masks 1/4   90.0%  "));

  Progress q(ProgressMode::None, 4, 1000.0);
  q.advance(100.0, 10);
  q.mask_done();
  q.mask_done();
  q.mask_done();
  CATCH_CHECK_THAT(q.status_line(), StartsWith("masks 3/4   10.0%  "));

  // All work done with no mask finished: nothing left, whatever the mask count says.
  Progress r(ProgressMode::None, 4, 1000.0);
  r.advance(1000.0, 10);
  CATCH_CHECK_THAT(r.status_line(), StartsWith("masks 0/4  100.0%  "));
  CATCH_CHECK(eta_of(r.status_line()) == "0s");

  // A sliver of the work done: ETA = elapsed * (1 - f) / f. After >= 5 ms with f = 1e-5 that is at
  // least 500 s, so it prints in minutes or hours, even though 3 of 4 masks are "done".
  Progress s(ProgressMode::None, 4, 1e6);
  for (int i = 0; i < 3; ++i) s.mask_done();
  s.advance(10.0, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const std::string eta = eta_of(s.status_line());
  CATCH_INFO(s.status_line());
  CATCH_CHECK((eta.find('m') != std::string::npos || eta.find('h') != std::string::npos));
  CATCH_CHECK_THAT(s.status_line(), StartsWith("masks 3/4    0.0%  "));
}

CATCH_TEST_CASE("output per mode", "[sweep][progress]") {
  CATCH_SECTION("none prints nothing, even on finish") {
    StderrCapture cap;
    Progress p(ProgressMode::None, 2, 10.0, 0.0);
    p.advance(5.0, 1);
    p.mask_done();
    p.finish();
    CATCH_CHECK(cap.text().empty());
  }
  CATCH_SECTION("lines: one line per step past the interval, and one on finish") {
    StderrCapture cap;
    Progress p(ProgressMode::Lines, 2, 10.0, 0.0);
    p.advance(5.0, 1);
    p.mask_done();
    p.finish();
    const std::string out = cap.text();
    CATCH_CHECK(std::count(out.begin(), out.end(), '\n') == 3);
    CATCH_CHECK_THAT(out, StartsWith("progress: masks 0/2   50.0%  "));
    CATCH_CHECK_THAT(out, Contains("\nprogress: masks 1/2   50.0%  "));
    CATCH_CHECK(out.find('\r') == std::string::npos);
  }
  CATCH_SECTION("lines: quiet within the interval, finish always prints") {
    StderrCapture cap;
    Progress p(ProgressMode::Lines, 2, 10.0, 3600.0);
    p.advance(5.0, 1);
    p.mask_done();
    p.advance(5.0, 1);
    p.mask_done();
    p.finish();
    const std::string out = cap.text();
    CATCH_CHECK(std::count(out.begin(), out.end(), '\n') == 1);
    CATCH_CHECK_THAT(out, StartsWith("progress: masks 2/2  100.0%  "));
  }
  CATCH_SECTION("bar: redraws one line, fill follows work, newline on finish") {
    StderrCapture cap;
    Progress p(ProgressMode::Bar, 2, 10.0);
    p.advance(5.0, 1);  // drawn only if 0.2 s have passed since the start; finish() draws regardless
    p.finish();
    const std::string out = cap.text();
    const std::string bar = "\r[" + std::string(15, '#') + std::string(15, '.') + "] masks 0/2   50.0%  ";
    CATCH_CHECK_THAT(out.substr(out.rfind('\r')), StartsWith(bar));
    CATCH_CHECK_THAT(out, EndsWith("\x1b[K\n"));
    CATCH_CHECK(std::count(out.begin(), out.end(), '\n') == 1);
  }
  CATCH_SECTION("bar: full at 100%") {
    StderrCapture cap;
    Progress p(ProgressMode::Bar, 1, 4.0);
    p.advance(4.0, 1);
    p.mask_done();
    p.finish();
    const std::string out = cap.text();
    CATCH_CHECK(std::count(out.begin(), out.end(), '\n') == 1);
    CATCH_CHECK_THAT(out, Contains("[" + std::string(30, '#') + "] masks 1/1  100.0%"));
  }
}
