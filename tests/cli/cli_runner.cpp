#include "cli_runner.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace hs::test {

std::string binary() {
  const char* b = std::getenv("HEADSWEEP_BINARY");
  return b ? b : HEADSWEEP_BINARY_PATH;
}

static std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string temp_dir(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("headsweep-test-" + std::to_string(getpid())) / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

void write_file(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream f(path, std::ios::binary);
  f << text;
}

std::string model_copy(const std::string& model, const std::string& dir) {
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(model)) {
    const fs::path dest = fs::path(dir) / e.path().filename();
    if (e.path().filename() == "model.safetensors") {
      fs::create_symlink(fs::absolute(e.path()), dest);
    } else {
      fs::copy(e.path(), dest, fs::copy_options::recursive);
    }
  }
  return dir;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

CliResult run_cli(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  const std::string dir = temp_dir("cli-capture");
  std::string cmd;
  for (const std::string& e : env) cmd += e + " ";
  cmd += quote(binary());
  for (const std::string& a : args) cmd += " " + quote(a);
  cmd += " >" + dir + "/out 2>" + dir + "/err </dev/null";
  const int raw = std::system(cmd.c_str());
  CliResult r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = read_file(dir + "/out");
  r.err = read_file(dir + "/err");
  return r;
}

}  // namespace hs::test
