#include "test_env.h"

#include <cstdlib>
#include <filesystem>

#include <catch2/catch.hpp>

namespace fs = std::filesystem;

namespace hs::test {

std::string source_dir() { return HEADSWEEP_SOURCE_DIR; }
std::string golden_dir() { return source_dir() + "/tests/golden"; }

bool require_data() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) != "" && std::string(ci) != "0" && std::string(ci) != "false";
}

bool require_cuda() {
  const char* v = std::getenv("HEADSWEEP_REQUIRE_CUDA");
  return v != nullptr && std::string(v) != "" && std::string(v) != "0";
}

static std::optional<std::string> found_or_missing(const std::string& what, const std::string& path) {
  if (!path.empty() && fs::exists(path)) return path;
  const std::string msg = what + " not found (" + (path.empty() ? "unset" : path) + ")";
  if (require_data()) {
    CATCH_FAIL(msg + ": required in CI");
  }
  CATCH_WARN("skipping: " + msg);
  return std::nullopt;
}

std::optional<std::string> glue_dir() {
  const char* g = std::getenv("GLUE_DIR");
  return found_or_missing("GLUE_DIR", g ? g : "");
}

std::optional<std::string> model_dir() {
  const char* m = std::getenv("HEADSWEEP_MODEL_DIR");
  const std::string path = m ? m : source_dir() + "/models/all-MiniLM-L6-v2";
  if (fs::exists(path + "/config.json")) return path;
  return found_or_missing("checkpoint (run scripts/setup.sh)", path + "/config.json");
}

}  // namespace hs::test
