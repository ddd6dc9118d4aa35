#pragma once
// CRC-32 (zlib's) of what the side files beside a results file keep: a record damaged on disk,
// with the file's length intact, fails its CRC and is computed again instead of being read back.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include <zlib.h>

namespace hs {

inline uint32_t crc32_of(const void* data, size_t n) {
  return static_cast<uint32_t>(crc32_z(0, static_cast<const Bytef*>(data), static_cast<z_size_t>(n)));
}

// A text line with its CRC: "TEXT XXXXXXXX" (8 hex digits), without the newline.
inline std::string with_crc(const std::string& text) {
  char hex[10];
  std::snprintf(hex, sizeof hex, " %08x", crc32_of(text.data(), text.size()));
  return text + hex;
}

// The TEXT of a line with_crc wrote, or nothing when the line does not match its CRC.
inline std::optional<std::string> checked_text(const std::string& line) {
  if (line.size() < 9) return std::nullopt;
  std::string text = line.substr(0, line.size() - 9);
  if (with_crc(text) != line) return std::nullopt;
  return text;
}

}  // namespace hs
