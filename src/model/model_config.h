#pragma once
// config.json of a Hugging Face BERT checkpoint. Only what the encoder forward needs, plus the label
// names the results file records. Anything headsweep cannot compute faithfully (relative position
// embeddings, non-GELU activations, other model types) is rejected here, before any weights load.
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace hs::model {

struct BertConfig {
  // Architecture dimensions are required keys: a defaulted hidden size would only fail later, at a
  // weight shape, with a less helpful message.
  int vocab_size = 0;
  int hidden_size = 0;          // C
  int num_hidden_layers = 0;    // L
  int num_attention_heads = 0;  // H
  int intermediate_size = 0;
  // Optional keys, defaulting as transformers' BertConfig does.
  int max_position_embeddings = 512;
  int type_vocab_size = 2;
  int pad_token_id = 0;
  double layer_norm_eps = 1e-12;
  // "gelu" (erf), "gelu_new" or "gelu_pytorch_tanh" (both the tanh approximation).
  std::string hidden_act = "gelu";
  // Only "absolute" is supported.
  std::string position_embedding_type = "absolute";
  std::vector<std::string> architectures;
  std::string model_type;    // "bert", or empty when config.json has none
  std::string name_or_path;  // "_name_or_path"
  // From num_labels, else the size of id2label / label2id; 0 when the config names no labels (a bare
  // encoder). inspect_model_dir() sets 2 when a classifier exists and the config is silent.
  int num_labels = 0;
  // Label names in index order; "LABEL_i" when the config gives num_labels without names.
  std::vector<std::string> id2label;
  // "", "regression", "single_label_classification" or "multi_label_classification".
  std::string problem_type;

  int head_dim() const { return num_attention_heads > 0 ? hidden_size / num_attention_heads : 0; }  // D
};

// Throws hs::InputError naming the file and the key on a missing, mistyped or unsupported value.
BertConfig parse_bert_config(const std::string& config_json_path);

namespace detail {
// Parses a JSON file; hs::InputError "PATH: not found" or "PATH: not valid JSON (byte N): ..." otherwise.
// Shared by the model-folder readers so every config file reports errors the same way.
nlohmann::json read_json_file(const std::string& path);
}  // namespace detail

}  // namespace hs::model
