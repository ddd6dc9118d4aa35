#include "model/model_dir.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "model/safetensors.h"
#include "util/error.h"
#include "util/paths.h"

namespace hs::model {

namespace fs = std::filesystem;
using json = nlohmann::json;

const char* pooling_name(Pooling pooling) {
  switch (pooling) {
    case Pooling::Mean: return "mean";
    case Pooling::Cls: return "cls";
    case Pooling::Max: return "max";
  }
  return "?";
}

namespace {

// Order matters only for ambiguous files; a real checkpoint matches exactly one.
const char* const kPrefixes[] = {"", "bert.", "model.", "0.auto_model."};

std::string join(const std::string& dir, const std::string& name) { return (fs::path(dir) / name).string(); }

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

bool pooling_flag(const std::string& path, const json& cfg, const char* key) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return false;
  if (!it->is_boolean()) input_error("{}: key \"{}\" must be true or false, got {}", path, key, it->dump());
  return it->get<bool>();
}

Pooling parse_pooling(const std::string& path) {
  const json cfg = detail::read_json_file(path);
  if (!cfg.is_object()) input_error("{}: expected a JSON object", path);
  // Modes headsweep does not implement must fail loudly, or embeddings would silently differ.
  for (const char* key : {"pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens",
                          "pooling_mode_lasttoken"}) {
    if (pooling_flag(path, cfg, key)) {
      input_error("{}: key \"{}\" is set; supported pooling: mean, cls, max", path, key);
    }
  }
  const bool mean = pooling_flag(path, cfg, "pooling_mode_mean_tokens");
  const bool cls = pooling_flag(path, cfg, "pooling_mode_cls_token");
  const bool max = pooling_flag(path, cfg, "pooling_mode_max_tokens");
  const int n = int(mean) + int(cls) + int(max);
  if (n > 1) input_error("{}: more than one pooling_mode_* is true; concatenated pooling is not supported", path);
  if (n == 0) input_error("{}: no pooling_mode_* is true (expected one of mean_tokens, cls_token, max_tokens)", path);
  return mean ? Pooling::Mean : cls ? Pooling::Cls : Pooling::Max;
}

// modules.json: [{"idx": 0, "type": "sentence_transformers.models.Transformer", "path": ""}, ...]
void read_sentence_transformer(const std::string& dir, ModelDir& out) {
  const std::string modules_path = join(dir, "modules.json");
  const json modules = detail::read_json_file(modules_path);
  if (!modules.is_array()) input_error("{}: expected a JSON array of modules", modules_path);
  std::string pooling_dir;
  for (const json& m : modules) {
    if (!m.is_object() || !m.contains("type") || !m["type"].is_string()) {
      input_error("{}: every module needs a string \"type\", got {}", modules_path, m.dump());
    }
    const std::string type = m["type"].get<std::string>();
    if (type == "sentence_transformers.models.Normalize") out.normalize = true;
    if (type == "sentence_transformers.models.Pooling") {
      pooling_dir = "1_Pooling";
      if (m.contains("path") && m["path"].is_string() && !m["path"].get<std::string>().empty()) {
        pooling_dir = m["path"].get<std::string>();
      }
    }
  }
  if (!pooling_dir.empty()) {
    const std::string pooling_path = join(join(dir, pooling_dir), "config.json");
    if (regular_file_exists(pooling_path)) out.pooling = parse_pooling(pooling_path);
  }
}

}  // namespace

ModelDir inspect_model_dir(const std::string& dir) {
  const fs::file_status dir_status = path_status(dir);
  if (fs::exists(dir_status) && !fs::is_directory(dir_status)) input_error("{}: is a file, not a model folder", dir);
  if (!fs::is_directory(dir_status)) input_error("{}: model directory not found", dir);

  ModelDir out;
  out.path = dir;
  const std::string config_path = join(dir, "config.json");
  if (!regular_file_exists(config_path)) {
    input_error("{}: not found (a Hugging Face model folder needs config.json)", config_path);
  }
  out.config = parse_bert_config(config_path);

  out.weights_path = join(dir, "model.safetensors");
  if (!regular_file_exists(out.weights_path)) {
    if (path_exists(join(dir, "model.safetensors.index.json"))) {
      input_error("{}: not found; sharded checkpoints (model.safetensors.index.json) are not supported",
                  out.weights_path);
    }
    if (path_exists(join(dir, "pytorch_model.bin"))) {
      input_error("{}: not found; pytorch_model.bin is not supported (convert the checkpoint to safetensors)",
                  out.weights_path);
    }
    input_error("{}: not found", out.weights_path);
  }

  const SafetensorsFile weights = SafetensorsFile::open(out.weights_path);
  bool found = false;
  for (const char* prefix : kPrefixes) {
    if (weights.contains(std::string(prefix) + "embeddings.word_embeddings.weight")) {
      out.weight_prefix = prefix;
      found = true;
      break;
    }
  }
  if (!found) {
    if (out.config.model_type.empty()) {
      input_error("{}: no \"model_type\", and {} has no embeddings.word_embeddings.weight (prefixes tried: \"\", "
                  "bert., model., 0.auto_model.), so this is not a BERT checkpoint",
                  config_path, out.weights_path);
    }
    input_error("{}: no embeddings.word_embeddings.weight (prefixes tried: \"\", bert., model., 0.auto_model.)",
                out.weights_path);
  }

  const BertConfig& c = out.config;
  const TensorView& emb = weights.get(out.weight_prefix + "embeddings.word_embeddings.weight");
  if (emb.shape != std::vector<int64_t>{c.vocab_size, c.hidden_size}) {
    input_error("{}: tensor {} has shape {} but config.json says vocab_size {} and hidden_size {}", out.weights_path,
                emb.name, shape_str(emb.shape), c.vocab_size, c.hidden_size);
  }

  out.has_pooler = weights.contains(out.weight_prefix + "pooler.dense.weight");
  out.has_classifier = weights.contains("classifier.weight");
  if (out.has_classifier) {
    BertConfig& cm = out.config;
    // transformers' PretrainedConfig defaults to two labels; match it so a headless config still loads.
    if (cm.num_labels == 0) {
      cm.num_labels = 2;
      cm.id2label = {"LABEL_0", "LABEL_1"};
    }
    const TensorView& cls = weights.get("classifier.weight");
    if (cls.shape != std::vector<int64_t>{cm.num_labels, cm.hidden_size}) {
      input_error("{}: tensor classifier.weight has shape {} but config.json implies [{}, {}] (num_labels, "
                  "hidden_size)", out.weights_path, shape_str(cls.shape), cm.num_labels, cm.hidden_size);
    }
  }

  out.is_sentence_transformer = regular_file_exists(join(dir, "modules.json"));
  if (out.is_sentence_transformer) read_sentence_transformer(dir, out);
  return out;
}

}  // namespace hs::model
