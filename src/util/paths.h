#pragma once
// Looking at a path the user gave without std::filesystem's exceptions: a path that cannot be looked
// at (a symlink loop, a folder without search permission) is the user's input error, named, not an
// internal error.
#include <filesystem>
#include <string>
#include <system_error>

#include "util/error.h"

namespace hs {

// Whether `path` exists (following symlinks). Missing, or under something that is not a folder: false.
// Any other failure to look: InputError "PATH: cannot access it (REASON)".
inline bool path_exists(const std::string& path) {
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
    input_error("{}: cannot access it ({})", path, ec.message());
  return std::filesystem::exists(st);
}

// path_exists, and then it must be a regular file: reading a pipe or a device would block or
// never end. InputError "PATH: is not a regular file ..." otherwise.
inline bool regular_file_exists(const std::string& path) {
  if (!path_exists(path)) return false;
  if (!std::filesystem::is_regular_file(path))
    input_error("{}: is not a regular file (a folder, a device or a pipe)", path);
  return true;
}

}  // namespace hs
