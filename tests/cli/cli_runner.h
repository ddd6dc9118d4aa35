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
// Copies the checkpoint folder `model` to `dir` (created; returned), the weights file as a symlink to
// the real one, so single files can be broken or replaced without copying 90 MB.
std::string model_copy(const std::string& model, const std::string& dir);

}  // namespace hs::test
