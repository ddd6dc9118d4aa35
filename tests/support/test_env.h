#pragma once
// Where tests find real data. Outside CI a missing data set skips the test (with a message); in CI
// (the CI environment variable is set) it fails, so a broken checkout cannot pass silently.
#include <optional>
#include <string>

namespace hs::test {

// GLUE_DIR, e.g. ../shared/data/glue. Returns nullopt (after a SKIP-style warning) when absent.
std::optional<std::string> glue_dir();
// HEADSWEEP_MODEL_DIR or <source>/models/all-MiniLM-L6-v2.
std::optional<std::string> model_dir();
// <source>/tests/golden
std::string golden_dir();
std::string source_dir();
// Whether a missing resource must fail (true in CI).
bool require_data();
// Whether a missing CUDA device must fail (HEADSWEEP_REQUIRE_CUDA set and not 0): CI has no GPU, a GPU
// node's check must not pass without one.
bool require_cuda();

}  // namespace hs::test

// Use at the top of a TEST_CASE: leaves the test (or fails it in CI) when the resource is missing.
#define HS_REQUIRE_GLUE(var)                                     \
  auto var##_opt = ::hs::test::glue_dir();                       \
  if (!var##_opt) return;                                        \
  const std::string var = *var##_opt
#define HS_REQUIRE_MODEL(var)                                    \
  auto var##_opt = ::hs::test::model_dir();                      \
  if (!var##_opt) return;                                        \
  const std::string var = *var##_opt

// A GPU test without a device: Catch2 v2 has no SKIP, so the reason is printed as a warning and
// the test case returns; where a GPU must be there (HEADSWEEP_REQUIRE_CUDA set, as
// scripts/device-check.sh sets it), the test fails instead of passing with no checks.
#define HS_SKIP_WITHOUT_DEVICE()                                                                  \
  do {                                                                                            \
    if (::hs::test::require_cuda()) CATCH_FAIL("no CUDA device, and HEADSWEEP_REQUIRE_CUDA is set"); \
    CATCH_WARN("skipped: no CUDA device");                                                        \
    return;                                                                                       \
  } while (0)
