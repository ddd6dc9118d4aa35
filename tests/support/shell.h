#pragma once
// Runs a command through the shell and captures its exit status and its output (stdout and stderr
// together), for tests that drive scripts and external tools.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace hs::test {

struct Shell {
  int status = -1;  // the exit status; -1 when it did not exit normally or could not start
  std::string out;  // stdout and stderr
};

inline Shell sh(const std::string& cmd) {
  Shell r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int raw = ::pclose(p);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

}  // namespace hs::test
