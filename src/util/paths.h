#pragma once
// Looking at a path the user gave without std::filesystem's exceptions: a path that cannot be looked
// at (a symlink loop, a folder without search permission) is the user's input error, named, not an
// internal error.
#include <filesystem>
#include <string>
#include <system_error>

#include "util/error.h"

namespace hs {

// What looking at a path found: its status (following symlinks), and why it could not be looked at.
// A missing path, or one under something that is not a folder, is not_found with no problem; a
// symlink loop or a folder without search permission is a problem, for the caller to report with
// whatever names the path (a config key, a file position).
struct PathLook {
  std::filesystem::file_status status;
  std::string problem;  // empty when the path could be looked at
};

inline PathLook look_at_path(const std::string& path) {
  std::error_code ec;
  PathLook out{std::filesystem::status(path, ec), {}};
  if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
    out.problem = ec.message();
  return out;
}

// The status of `path`; InputError "PATH: cannot access it (REASON)" when it cannot be looked at.
inline std::filesystem::file_status path_status(const std::string& path) {
  PathLook look = look_at_path(path);
  if (!look.problem.empty()) input_error("{}: cannot access it ({})", path, look.problem);
  return look.status;
}

inline bool path_exists(const std::string& path) { return std::filesystem::exists(path_status(path)); }

// Whether `path` exists, and then it must be a regular file: reading a pipe or a device would block
// or never end. InputError "PATH: is not a regular file ..." otherwise.
inline bool regular_file_exists(const std::string& path) {
  const std::filesystem::file_status st = path_status(path);
  if (!std::filesystem::exists(st)) return false;
  if (!std::filesystem::is_regular_file(st))
    input_error("{}: is not a regular file (a folder, a device or a pipe)", path);
  return true;
}

}  // namespace hs
