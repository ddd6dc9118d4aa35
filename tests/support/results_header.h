#pragma once
// The header of a made-up sweep (a 2 x 3 encoder "tiny" on MNLI dev, single-head strategy) for tests
// that write results files without running a model; tests change the fields they are about.
#include <string>
#include <vector>

#include "io/results.h"

namespace hs::test {

inline hs::io::ResultsHeader tiny_results_header(const std::string& config_yaml,
                                                 const std::vector<std::string>& metrics = {"accuracy"}) {
  hs::io::ResultsHeader h;
  h.tool_version = "0.1.0";
  h.config_yaml = config_yaml;
  h.model_path = "/models/tiny";
  h.model_id = "tiny";
  h.model_sha256 = std::string(64, 'a');
  h.inputs_sha256 = std::string(64, 'c');
  h.task = "mnli";
  h.split = "dev";
  h.strategy = "single-head";
  h.device_name = "AMD EPYC 7B13 64-Core Processor";
  h.n_layers = 2;
  h.n_heads = 3;
  h.metrics = metrics;
  return h;
}

}  // namespace hs::test
