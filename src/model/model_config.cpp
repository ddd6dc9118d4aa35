#include "model/model_config.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace hs::model {

using json = nlohmann::json;

namespace detail {

json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) input_error("{}: not found", path);
    input_error("{}: cannot open ({})", path, std::strerror(errno));
  }
  std::stringstream text;
  text << in.rdbuf();
  try {
    return json::parse(text.str());
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix: it means nothing to a user.
    if (auto close = what.find("] "); !what.empty() && what[0] == '[' && close != std::string::npos) {
      what = what.substr(close + 2);
    }
    input_error("{}: not valid JSON (byte {}): {}", path, e.byte, what);
  }
}

}  // namespace detail

namespace {

// HF writes "absent" both as a missing key and as null.
const json* find_key(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

int get_int(const std::string& path, const json& j, const char* key, bool required, int fallback, int min_value) {
  const json* v = find_key(j, key);
  if (v == nullptr) {
    if (required) input_error("{}: missing key \"{}\"", path, key);
    return fallback;
  }
  if (!v->is_number_integer() || v->get<int64_t>() < min_value ||
      v->get<int64_t>() > std::numeric_limits<int>::max()) {
    input_error("{}: key \"{}\" must be an integer >= {}, got {}", path, key, min_value, v->dump());
  }
  return static_cast<int>(v->get<int64_t>());
}

std::string get_string(const std::string& path, const json& j, const char* key, const std::string& fallback) {
  const json* v = find_key(j, key);
  if (v == nullptr) return fallback;
  if (!v->is_string()) input_error("{}: key \"{}\" must be a string, got {}", path, key, v->dump());
  return v->get<std::string>();
}

bool parse_index(const std::string& s, size_t& out) {
  if (s.empty() || s.size() > 9) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<size_t>(c - '0');
  }
  return true;
}

// id2label is {"0": "neg", "1": "pos"}; label2id is {"neg": 0, "pos": 1}. Either must name every index
// 0..n-1 exactly once, or the label order (and so the metric) would be ambiguous.
std::vector<std::string> parse_labels(const std::string& path, const json& cfg) {
  std::vector<std::pair<size_t, std::string>> pairs;
  const char* key = nullptr;
  if (const json* id2label = find_key(cfg, "id2label")) {
    key = "id2label";
    if (!id2label->is_object()) input_error("{}: key \"id2label\" must be an object, got {}", path, id2label->dump());
    for (auto it = id2label->begin(); it != id2label->end(); ++it) {
      size_t idx = 0;
      if (!parse_index(it.key(), idx)) {
        input_error("{}: key \"id2label\": \"{}\" is not a label index", path, it.key());
      }
      if (!it.value().is_string()) {
        input_error("{}: key \"id2label\": label {} must be a string, got {}", path, it.key(), it.value().dump());
      }
      pairs.emplace_back(idx, it.value().get<std::string>());
    }
  } else if (const json* label2id = find_key(cfg, "label2id")) {
    key = "label2id";
    if (!label2id->is_object()) input_error("{}: key \"label2id\" must be an object, got {}", path, label2id->dump());
    for (auto it = label2id->begin(); it != label2id->end(); ++it) {
      if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0) {
        input_error("{}: key \"label2id\": \"{}\" must map to a non-negative integer, got {}", path, it.key(),
                    it.value().dump());
      }
      pairs.emplace_back(static_cast<size_t>(it.value().get<int64_t>()), it.key());
    }
  } else {
    return {};
  }

  std::vector<std::string> labels(pairs.size());
  std::vector<bool> filled(pairs.size(), false);
  for (const auto& [idx, name] : pairs) {
    if (idx >= pairs.size() || filled[idx]) {
      input_error("{}: key \"{}\": label indices must be 0..{} with each used once, got {}", path, key,
                  pairs.size() - 1, idx);
    }
    labels[idx] = name;
    filled[idx] = true;
  }
  return labels;
}

}  // namespace

BertConfig parse_bert_config(const std::string& path) {
  const json cfg = detail::read_json_file(path);
  if (!cfg.is_object()) input_error("{}: expected a JSON object", path);

  BertConfig c;
  c.model_type = get_string(path, cfg, "model_type", "");
  if (!c.model_type.empty() && c.model_type != "bert") {
    input_error("{}: key \"model_type\" is \"{}\"; only \"bert\" is supported", path, c.model_type);
  }

  c.vocab_size = get_int(path, cfg, "vocab_size", true, 0, 1);
  c.hidden_size = get_int(path, cfg, "hidden_size", true, 0, 1);
  c.num_hidden_layers = get_int(path, cfg, "num_hidden_layers", true, 0, 1);
  c.num_attention_heads = get_int(path, cfg, "num_attention_heads", true, 0, 1);
  c.intermediate_size = get_int(path, cfg, "intermediate_size", true, 0, 1);
  c.max_position_embeddings = get_int(path, cfg, "max_position_embeddings", false, c.max_position_embeddings, 1);
  c.type_vocab_size = get_int(path, cfg, "type_vocab_size", false, c.type_vocab_size, 1);
  c.pad_token_id = get_int(path, cfg, "pad_token_id", false, c.pad_token_id, 0);
  if (c.hidden_size % c.num_attention_heads != 0) {
    input_error("{}: key \"hidden_size\" ({}) is not a multiple of \"num_attention_heads\" ({})", path,
                c.hidden_size, c.num_attention_heads);
  }

  if (const json* eps = find_key(cfg, "layer_norm_eps")) {
    if (!eps->is_number() || eps->get<double>() < 0) {
      input_error("{}: key \"layer_norm_eps\" must be a non-negative number, got {}", path, eps->dump());
    }
    c.layer_norm_eps = eps->get<double>();
  }

  c.hidden_act = get_string(path, cfg, "hidden_act", c.hidden_act);
  if (c.hidden_act != "gelu" && c.hidden_act != "gelu_new" && c.hidden_act != "gelu_pytorch_tanh") {
    input_error("{}: key \"hidden_act\" is \"{}\"; supported: gelu, gelu_new, gelu_pytorch_tanh", path, c.hidden_act);
  }
  c.position_embedding_type = get_string(path, cfg, "position_embedding_type", c.position_embedding_type);
  if (c.position_embedding_type != "absolute") {
    input_error("{}: key \"position_embedding_type\" is \"{}\"; only \"absolute\" is supported", path,
                c.position_embedding_type);
  }

  if (const json* arch = find_key(cfg, "architectures")) {
    const auto is_string = [](const json& a) { return a.is_string(); };
    if (!arch->is_array() || !std::all_of(arch->begin(), arch->end(), is_string)) {
      input_error("{}: key \"architectures\" must be an array of strings, got {}", path, arch->dump());
    }
    for (const json& a : *arch) c.architectures.push_back(a.get<std::string>());
  }
  c.name_or_path = get_string(path, cfg, "_name_or_path", "");

  c.problem_type = get_string(path, cfg, "problem_type", "");
  if (!c.problem_type.empty() && c.problem_type != "regression" && c.problem_type != "single_label_classification" &&
      c.problem_type != "multi_label_classification") {
    input_error("{}: key \"problem_type\" is \"{}\"; expected regression, single_label_classification or "
                "multi_label_classification", path, c.problem_type);
  }

  c.id2label = parse_labels(path, cfg);
  c.num_labels = get_int(path, cfg, "num_labels", false, static_cast<int>(c.id2label.size()), 1);
  if (!c.id2label.empty() && static_cast<size_t>(c.num_labels) != c.id2label.size()) {
    input_error("{}: key \"num_labels\" ({}) disagrees with the {} labels in \"id2label\"/\"label2id\"", path,
                c.num_labels, c.id2label.size());
  }
  for (int i = static_cast<int>(c.id2label.size()); i < c.num_labels; ++i) {
    c.id2label.push_back("LABEL_" + std::to_string(i));
  }
  return c;
}

}  // namespace hs::model
