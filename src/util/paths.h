#pragma once
// Looking at a path the user gave without std::filesystem's exceptions: a path that cannot be looked
// at (a symlink loop, a folder without search permission) is the user's input error, named, not an
// internal error.
#include <filesystem>
#include <string>
#include <system_error>

#include "util/error.h"

namespace hs {

// The status of `path` (following symlinks); not_found when it is missing or under something that is
// not a folder. Any other failure to look: InputError "PATH: cannot access it (REASON)".
inline std::filesystem::file_status path_status(const std::string& path) {
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
    input_error("{}: cannot access it ({})", path, ec.message());
  return st;
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
