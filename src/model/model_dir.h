#pragma once
// A Hugging Face model folder: config.json + model.safetensors, optionally a sentence-transformers
// layout (modules.json, 1_Pooling/config.json). inspect_model_dir() reads only metadata (the config
// files and the safetensors header), so it is cheap enough for `headsweep validate`.
#include <string>

#include "model/model_config.h"

namespace hs::model {

enum class Pooling { Mean, Cls, Max };

const char* pooling_name(Pooling pooling);  // "mean", "cls", "max"

struct ModelDir {
  std::string path;
  BertConfig config;
  std::string weights_path;  // <path>/model.safetensors
  // Prepended to the encoder's tensor names: "" (BertModel), "bert." (BertFor*), "model." or
  // "0.auto_model." (sentence-transformers saved as one module).
  std::string weight_prefix;
  bool has_pooler = false;      // <prefix>pooler.dense.weight
  bool has_classifier = false;  // classifier.weight (num_labels, C), outside the prefix
  bool is_sentence_transformer = false;  // modules.json present
  Pooling pooling = Pooling::Mean;       // from the Pooling module's config.json; Mean without one
  bool normalize = false;                // modules.json lists sentence_transformers.models.Normalize
};

// Throws hs::InputError naming the folder or the offending file.
ModelDir inspect_model_dir(const std::string& dir);

}  // namespace hs::model
