// scripts/plot_results.py on real results files: the committed michel2019 runs (single-head,
// leave-one-in, importance, attention statistics, pruning curves) and a fresh run of layer and
// random masks. check_plots.py reads every plotted value back from the figures.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "cli_runner.h"
#include "shell.h"
#include "test_env.h"

CATCH_TEST_CASE("plot_results.py draws what the results file holds, value for value", "[cli][plot]") {
  HS_REQUIRE_MODEL(model);
  HS_REQUIRE_GLUE(glue);
  const std::string src = hs::test::source_dir();
  const std::string dir = hs::test::temp_dir("plot");
  const std::string layers = dir + "/layers.h5";
  hs::test::write_file(dir + "/layers.yaml", fmt::format(R"(model:
  path: {}
task:
  name: stsb
  data_dir: {}
  limit: 24
sweep:
  strategy: [layer, random]
  sparsities: [0.5]
  samples: 4
stats:
  bootstrap: 200
runtime:
  threads: 2
output:
  path: {}
)",
                                                          model, glue, layers));
  const auto r = hs::test::run_cli({"run", dir + "/layers.yaml"});
  CATCH_INFO(r.out << r.err);
  CATCH_REQUIRE(r.status == 0);
  const std::string res = src + "/results/michel2019";
  const auto check = hs::test::sh(fmt::format(
      "/usr/bin/python3 {0}/tests/cli/check_plots.py {0}/scripts/plot_results.py {1}/stsb-heads.h5 "
      "{1}/stsb-pruning.h5 {2} {3}",
      src, res, layers, dir));
  CATCH_INFO(check.out);
  CATCH_CHECK(check.status == 0);
  CATCH_CHECK(check.out.find("check_plots: ok") != std::string::npos);
}
