#pragma once
// Builds a Hugging Face BertForSequenceClassification folder from the all-MiniLM-L6-v2 checkpoint and
// one of the seeded classifiers in tests/golden/heads.safetensors (see make_golden.py, part `heads`):
//   config.json        the MiniLM config.json plus heads.json's tasks.<task>.config (architectures,
//                      num_labels, id2label, label2id)
//   vocab.txt, tokenizer_config.json   copied
//   model.safetensors  every MiniLM tensor renamed "bert.<name>" (data bytes unchanged), then
//                      classifier.weight and classifier.bias from <task>.classifier.*
// Torch-free and header-only (nlohmann_json only), so the CLI tests can use it too.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hs::test {

// One tensor of a safetensors file, read with a minimal parser independent of the one under test.
struct RawTensor {
  std::string dtype;
  std::vector<int64_t> shape;
  std::string bytes;
};

namespace detail {

inline std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(path + ": cannot open");
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// The header object and the file offset of the data buffer.
inline nlohmann::json read_safetensors_header(std::ifstream& f, const std::string& path, uint64_t& data_start) {
  uint64_t n = 0;
  f.read(reinterpret_cast<char*>(&n), 8);  // little-endian hosts only, as the reader under test
  if (!f || n > (uint64_t(1) << 30)) throw std::runtime_error(path + ": bad safetensors header length");
  std::string text(n, '\0');
  f.read(text.data(), static_cast<std::streamsize>(n));
  if (!f) throw std::runtime_error(path + ": short safetensors header");
  data_start = 8 + n;
  return nlohmann::json::parse(text);
}

}  // namespace detail

inline RawTensor read_safetensors_tensor(const std::string& path, const std::string& name) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(path + ": cannot open");
  uint64_t data_start = 0;
  const nlohmann::json header = detail::read_safetensors_header(f, path, data_start);
  if (!header.contains(name)) throw std::runtime_error(path + ": no tensor " + name);
  const nlohmann::json& e = header.at(name);
  RawTensor t;
  t.dtype = e.at("dtype").get<std::string>();
  t.shape = e.at("shape").get<std::vector<int64_t>>();
  const uint64_t begin = e.at("data_offsets")[0].get<uint64_t>(), end = e.at("data_offsets")[1].get<uint64_t>();
  t.bytes.resize(end - begin);
  f.seekg(static_cast<std::streamoff>(data_start + begin));
  f.read(t.bytes.data(), static_cast<std::streamsize>(t.bytes.size()));
  if (!f) throw std::runtime_error(path + ": tensor " + name + " runs past the end of the file");
  return t;
}

inline nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(detail::read_all(path)); }

// Writes the classification folder for `task` ("rte" or "stsb") into out_dir (created if needed).
// minilm_dir: the all-MiniLM-L6-v2 folder; golden: tests/golden. overflow: the classifier's weights
// scaled by 1e38 and its bias set to FLT_MAX, so that every output whose logit was positive
// overflows to inf (as a half-precision run may overflow), with every weight still finite.
inline void write_classifier_model_dir(const std::string& out_dir, const std::string& minilm_dir,
                                       const std::string& golden, const std::string& task,
                                       bool overflow = false) {
  namespace fs = std::filesystem;
  fs::create_directories(out_dir);
  const nlohmann::json heads = read_json(golden + "/heads.json");
  const nlohmann::json& head_cfg = heads.at("tasks").at(task).at("config");

  nlohmann::json config = read_json(minilm_dir + "/config.json");
  for (auto it = head_cfg.begin(); it != head_cfg.end(); ++it) config[it.key()] = it.value();
  std::ofstream(out_dir + "/config.json") << config.dump(2) << "\n";
  for (const char* name : {"vocab.txt", "tokenizer_config.json"}) {
    fs::copy_file(fs::path(minilm_dir) / name, fs::path(out_dir) / name, fs::copy_options::overwrite_existing);
  }

  const std::string src_path = minilm_dir + "/model.safetensors";
  std::ifstream src(src_path, std::ios::binary);
  if (!src) throw std::runtime_error(src_path + ": cannot open");
  uint64_t data_start = 0;
  const nlohmann::json header = detail::read_safetensors_header(src, src_path, data_start);
  const uint64_t data_size = fs::file_size(src_path) - data_start;

  nlohmann::json out = nlohmann::json::object();
  for (auto it = header.begin(); it != header.end(); ++it) {
    out[it.key() == "__metadata__" ? it.key() : "bert." + it.key()] = it.value();
  }
  const std::string heads_path = golden + "/heads.safetensors";
  std::string extra;
  for (const char* part : {"weight", "bias"}) {
    RawTensor t = read_safetensors_tensor(heads_path, task + ".classifier." + part);
    if (overflow) {
      if (t.dtype != "F32") throw std::runtime_error(heads_path + ": the classifier is not F32");
      for (size_t i = 0; i + 4 <= t.bytes.size(); i += 4) {
        float w = 0;
        std::memcpy(&w, t.bytes.data() + i, 4);
        w = std::string(part) == "weight" ? w * 1e38f : std::numeric_limits<float>::max();
        std::memcpy(t.bytes.data() + i, &w, 4);
      }
    }
    const uint64_t begin = data_size + extra.size();
    out[std::string("classifier.") + part] = {
        {"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {begin, begin + t.bytes.size()}}};
    extra += t.bytes;
  }
  std::string text = out.dump();
  while (text.size() % 8 != 0) text += ' ';

  std::ofstream dst(out_dir + "/model.safetensors", std::ios::binary | std::ios::trunc);
  const uint64_t n = text.size();
  dst.write(reinterpret_cast<const char*>(&n), 8);
  dst.write(text.data(), static_cast<std::streamsize>(text.size()));
  src.seekg(static_cast<std::streamoff>(data_start));
  dst << src.rdbuf();  // the MiniLM data buffer, byte for byte
  dst.write(extra.data(), static_cast<std::streamsize>(extra.size()));
  if (!dst) throw std::runtime_error(out_dir + "/model.safetensors: write failed");
}

}  // namespace hs::test
