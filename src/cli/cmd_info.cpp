#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands.h"
#include "model/bert.h"
#include "model/model_dir.h"
#include "model/safetensors.h"

namespace hs::cli {

void add_info_command(CLI::App& app, int* status) {
  auto* cmd = app.add_subcommand("info", "Describe a Hugging Face model folder (architecture, L, H, parameters, dtype)");
  auto dir_arg = std::make_shared<std::string>();
  cmd->add_option("model_dir", *dir_arg, "folder with config.json, model.safetensors and vocab.txt")->required();
  cmd->callback([dir_arg, status] {
    const model::ModelDir dir = model::inspect_model_dir(*dir_arg);
    // What a run checks when it loads the weights (every tensor config.json implies, of its shape
    // and finite, and none besides), so that info does not describe a checkpoint a run refuses.
    model::load_bert_weights(dir);
    const model::BertConfig& c = dir.config;
    const model::SafetensorsFile file = model::SafetensorsFile::open(dir.weights_path);
    std::map<std::string, int64_t> dtypes;
    int64_t params = 0;
    for (const std::string& name : file.names()) {
      const model::TensorView& t = file.get(name);
      if (t.dtype == model::DType::I64 || t.dtype == model::DType::I32) continue;  // position-id buffers
      dtypes[model::dtype_name(t.dtype)] += t.numel();
      params += t.numel();
    }
    fmt::print("model          {}\n", dir.path);
    fmt::print("architecture   {} ({})\n", c.architectures.empty() ? std::string("BertModel") : fmt::format("{}", fmt::join(c.architectures, ", ")),
               c.model_type);
    if (!c.name_or_path.empty()) fmt::print("name           {}\n", c.name_or_path);
    fmt::print("layers (L)     {}\n", c.num_hidden_layers);
    fmt::print("heads (H)      {} per layer, {} in all\n", c.num_attention_heads, c.num_hidden_layers * c.num_attention_heads);
    fmt::print("hidden (C)     {}  head dim (D) {}  intermediate {}\n", c.hidden_size, c.head_dim(), c.intermediate_size);
    fmt::print("vocabulary     {}  max positions {}  activation {}\n", c.vocab_size, c.max_position_embeddings, c.hidden_act);
    fmt::print("parameters     {} ({:.1f} M)\n", params, params / 1e6);
    std::string dt;
    for (const auto& [k, v] : dtypes) dt += fmt::format("{}{} ({} params)", dt.empty() ? "" : ", ", k, v);
    fmt::print("dtype          {}\n", dt);
    fmt::print("weight prefix  \"{}\"\n", dir.weight_prefix);
    fmt::print("pooler         {}\n", dir.has_pooler ? "yes" : "no");
    if (dir.has_classifier) {
      fmt::print("task head      classifier, {} label{}{}\n", c.num_labels, c.num_labels == 1 ? "" : "s",
                 c.id2label.empty() ? "" : fmt::format(" ({})", fmt::join(c.id2label, ", ")));
    } else {
      fmt::print("task head      none (sentence similarity by cosine of {}-pooled embeddings{})\n", model::pooling_name(dir.pooling),
                 dir.is_sentence_transformer ? ", sentence-transformers export" : "");
    }
    fmt::print("weights        {} ({})\n", dir.weights_path, model::sha256_file(dir.weights_path));
    *status = 0;
  });
}

}  // namespace hs::cli
