#pragma once
// Whole reads and writes at an offset of a file descriptor, and its sync, for the files a run keeps
// beside its results file so that a stopped run resumes (sweep/group_store.h, sweep/importance_store.h).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "util/error.h"

namespace hs {

// Writes all n bytes at `offset`; InputError "PATH: cannot write WHAT: REASON" otherwise (a full disk).
inline void write_all(int fd, const void* data, size_t n, int64_t offset, const std::string& path,
                      const char* what) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, p, n, offset);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) input_error("{}: cannot write {}: {}", path, what, std::strerror(errno));
    p += w;
    n -= static_cast<size_t>(w);
    offset += w;
  }
}

// Reads all n bytes at `offset`; false when the file ends first or cannot be read.
inline bool read_all(int fd, void* data, size_t n, int64_t offset) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    const ssize_t r = ::pread(fd, p, n, offset);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
    offset += r;
  }
  return true;
}

// What was written is on the disk when this returns.
inline void sync_data(int fd, const std::string& path, const char* what) {
  if (::fdatasync(fd) != 0) input_error("{}: cannot sync {}: {}", path, what, std::strerror(errno));
}

}  // namespace hs
