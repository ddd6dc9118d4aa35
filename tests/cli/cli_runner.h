#pragma once
// Runs the real headsweep binary (HEADSWEEP_BINARY, set by CTest) and captures its exit status,
// stdout and stderr.
#include <string>
#include <vector>

namespace hs::test {

struct CliResult {
  int status = -1;
  std::string out;
  std::string err;
};

CliResult run_cli(const std::vector<std::string>& args, const std::vector<std::string>& env = {});
std::string binary();
std::string temp_dir(const std::string& name);  // fresh, empty
void write_file(const std::string& path, const std::string& text);
std::string read_file(const std::string& path);

}  // namespace hs::test
