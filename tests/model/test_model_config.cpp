#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "checkpoint_fixtures.h"
#include "model/model_config.h"
#include "model/model_dir.h"
#include "test_env.h"
#include "util/error.h"

using hs::InputError;
using hs::model::inspect_model_dir;
using hs::model::ModelDir;
using hs::model::parse_bert_config;
using hs::model::Pooling;
using hs::test::build_safetensors;
using hs::test::FixtureTensor;
using hs::test::TempDir;
using hs::test::write_file;
using json = nlohmann::json;

namespace {

// A tiny but complete BERT config: C = 4, H = 2, L = 1.
json tiny_config() {
  return {{"architectures", {"BertModel"}},
          {"model_type", "bert"},
          {"vocab_size", 8},
          {"hidden_size", 4},
          {"num_hidden_layers", 1},
          {"num_attention_heads", 2},
          {"intermediate_size", 8},
          {"max_position_embeddings", 16},
          {"type_vocab_size", 2},
          {"pad_token_id", 0},
          {"layer_norm_eps", 1e-12},
          {"hidden_act", "gelu"},
          {"position_embedding_type", "absolute"}};
}

FixtureTensor zeros(const std::string& name, std::vector<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return {name, "F32", std::move(shape), std::string(static_cast<size_t>(n) * 4, '\0')};
}

// Writes config.json and model.safetensors (only the tensors named) into dir.
void write_model(const std::string& dir, const json& config, const std::vector<FixtureTensor>& tensors) {
  write_file(dir + "/config.json", config.dump(2));
  write_file(dir + "/model.safetensors", build_safetensors(tensors));
}

std::string config_error(const std::string& path) {
  try {
    parse_bert_config(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string dir_error(const std::string& dir) {
  try {
    inspect_model_dir(dir);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

CATCH_TEST_CASE("real checkpoint: all-MiniLM-L6-v2 folder", "[model_dir][checkpoint]") {
  HS_REQUIRE_MODEL(dir);
  const ModelDir m = inspect_model_dir(dir);
  const auto& c = m.config;
  CATCH_REQUIRE(c.num_hidden_layers == 6);
  CATCH_REQUIRE(c.num_attention_heads == 12);
  CATCH_REQUIRE(c.hidden_size == 384);
  CATCH_REQUIRE(c.head_dim() == 32);
  CATCH_REQUIRE(c.vocab_size == 30522);
  CATCH_REQUIRE(c.intermediate_size == 1536);
  CATCH_REQUIRE(c.max_position_embeddings == 512);
  CATCH_REQUIRE(c.type_vocab_size == 2);
  CATCH_REQUIRE(c.pad_token_id == 0);
  CATCH_REQUIRE(c.layer_norm_eps == 1e-12);
  CATCH_REQUIRE(c.hidden_act == "gelu");
  CATCH_REQUIRE(c.position_embedding_type == "absolute");
  CATCH_REQUIRE(c.architectures == std::vector<std::string>{"BertModel"});
  CATCH_REQUIRE(c.model_type == "bert");
  CATCH_REQUIRE(c.name_or_path == "nreimers/MiniLM-L6-H384-uncased");
  CATCH_REQUIRE(c.num_labels == 0);
  CATCH_REQUIRE(c.id2label.empty());
  CATCH_REQUIRE(c.problem_type.empty());

  CATCH_REQUIRE(m.path == dir);
  CATCH_REQUIRE(m.weights_path == dir + "/model.safetensors");
  CATCH_REQUIRE(m.weight_prefix.empty());
  CATCH_REQUIRE(m.has_pooler);
  CATCH_REQUIRE_FALSE(m.has_classifier);
  CATCH_REQUIRE(m.is_sentence_transformer);
  CATCH_REQUIRE(m.pooling == Pooling::Mean);
  CATCH_REQUIRE(m.normalize);
}

CATCH_TEST_CASE("bert.-prefixed classification checkpoint", "[model_dir]") {
  TempDir tmp;
  json cfg = tiny_config();
  cfg["architectures"] = {"BertForSequenceClassification"};
  cfg["id2label"] = {{"0", "entailment"}, {"1", "neutral"}, {"2", "contradiction"}};
  cfg["label2id"] = {{"contradiction", 2}, {"entailment", 0}, {"neutral", 1}};
  cfg["problem_type"] = "single_label_classification";
  write_model(tmp.path(), cfg,
              {zeros("bert.embeddings.word_embeddings.weight", {8, 4}), zeros("bert.pooler.dense.weight", {4, 4}),
               zeros("bert.pooler.dense.bias", {4}), zeros("classifier.weight", {3, 4}), zeros("classifier.bias", {3})});
  const ModelDir m = inspect_model_dir(tmp.path());
  CATCH_REQUIRE(m.weight_prefix == "bert.");
  CATCH_REQUIRE(m.has_pooler);
  CATCH_REQUIRE(m.has_classifier);
  CATCH_REQUIRE(m.config.num_labels == 3);
  CATCH_REQUIRE(m.config.id2label == std::vector<std::string>{"entailment", "neutral", "contradiction"});
  CATCH_REQUIRE(m.config.problem_type == "single_label_classification");
  CATCH_REQUIRE(m.config.head_dim() == 2);
  CATCH_REQUIRE_FALSE(m.is_sentence_transformer);
  CATCH_REQUIRE(m.pooling == Pooling::Mean);
  CATCH_REQUIRE_FALSE(m.normalize);
}

CATCH_TEST_CASE("classifier without labels in config.json defaults to two", "[model_dir]") {
  TempDir tmp;
  write_model(tmp.path(), tiny_config(),
              {zeros("bert.embeddings.word_embeddings.weight", {8, 4}), zeros("classifier.weight", {2, 4})});
  const ModelDir m = inspect_model_dir(tmp.path());
  CATCH_REQUIRE_FALSE(m.has_pooler);
  CATCH_REQUIRE(m.config.num_labels == 2);
  CATCH_REQUIRE(m.config.id2label == std::vector<std::string>{"LABEL_0", "LABEL_1"});

  write_model(tmp.path(), tiny_config(),
              {zeros("bert.embeddings.word_embeddings.weight", {8, 4}), zeros("classifier.weight", {3, 4})});
  CATCH_REQUIRE(dir_error(tmp.path()) ==
                tmp.file("model.safetensors") +
                    ": tensor classifier.weight has shape [3, 4] but config.json implies [2, 4] (num_labels, hidden_size)");
}

CATCH_TEST_CASE("weight prefixes and sentence-transformers layouts", "[model_dir]") {
  TempDir tmp;
  json cfg = tiny_config();
  cfg.erase("model_type");  // absent model_type is fine when the weight names are BERT's
  write_model(tmp.path(), cfg, {zeros("0.auto_model.embeddings.word_embeddings.weight", {8, 4})});
  write_file(tmp.file("modules.json"),
             R"([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                 {"idx": 1, "name": "1", "path": "pool", "type": "sentence_transformers.models.Pooling"}])");
  write_file(tmp.file("pool/config.json"),
             R"({"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false, "pooling_mode_max_tokens": false})");
  ModelDir m = inspect_model_dir(tmp.path());
  CATCH_REQUIRE(m.weight_prefix == "0.auto_model.");
  CATCH_REQUIRE(m.config.model_type.empty());
  CATCH_REQUIRE(m.is_sentence_transformer);
  CATCH_REQUIRE(m.pooling == Pooling::Cls);
  CATCH_REQUIRE_FALSE(m.normalize);
  CATCH_REQUIRE_FALSE(m.has_pooler);

  write_file(tmp.file("pool/config.json"), R"({"pooling_mode_max_tokens": true})");
  CATCH_REQUIRE(inspect_model_dir(tmp.path()).pooling == Pooling::Max);

  write_file(tmp.file("pool/config.json"), R"({"pooling_mode_mean_tokens": true, "pooling_mode_max_tokens": true})");
  CATCH_REQUIRE(dir_error(tmp.path()) == tmp.file("pool/config.json") +
                                             ": more than one pooling_mode_* is true; concatenated pooling is not supported");

  write_file(tmp.file("pool/config.json"), R"({"pooling_mode_mean_sqrt_len_tokens": true})");
  CATCH_REQUIRE(dir_error(tmp.path()) == tmp.file("pool/config.json") +
                                             ": key \"pooling_mode_mean_sqrt_len_tokens\" is set; supported pooling: "
                                             "mean, cls, max");

  write_model(tmp.path(), tiny_config(), {zeros("model.embeddings.word_embeddings.weight", {8, 4})});
  write_file(tmp.file("modules.json"), "{}");
  CATCH_REQUIRE(dir_error(tmp.path()) == tmp.file("modules.json") + ": expected a JSON array of modules");
}

CATCH_TEST_CASE("missing folder, config or weights", "[model_dir]") {
  TempDir tmp;
  const std::string missing = tmp.file("nowhere");
  CATCH_REQUIRE(dir_error(missing) == missing + ": model directory not found");

  CATCH_REQUIRE(dir_error(tmp.path()) ==
                tmp.file("config.json") + ": not found (a Hugging Face model folder needs config.json)");

  write_file(tmp.file("config.json"), tiny_config().dump());
  CATCH_REQUIRE(dir_error(tmp.path()) == tmp.file("model.safetensors") + ": not found");

  write_file(tmp.file("pytorch_model.bin"), "not a pickle");
  CATCH_REQUIRE(dir_error(tmp.path()) ==
                tmp.file("model.safetensors") +
                    ": not found; pytorch_model.bin is not supported (convert the checkpoint to safetensors)");

  write_file(tmp.file("model.safetensors.index.json"), "{}");
  CATCH_REQUIRE(dir_error(tmp.path()) ==
                tmp.file("model.safetensors") +
                    ": not found; sharded checkpoints (model.safetensors.index.json) are not supported");
}

CATCH_TEST_CASE("paths that cannot be looked at or read are input errors naming them", "[model_dir]") {
  TempDir tmp;
  // A symlink loop: std::filesystem would throw its own error, an internal error to the CLI.
  std::filesystem::create_symlink(tmp.file("config.json"), tmp.file("config.json"));
  CATCH_REQUIRE(dir_error(tmp.path()) == tmp.file("config.json") + ": cannot access it (Too many levels of symbolic links)");
  std::filesystem::remove(tmp.file("config.json"));
  write_file(tmp.file("config.json"), tiny_config().dump());
  // A pipe would block the read forever.
  CATCH_REQUIRE(::mkfifo(tmp.file("model.safetensors").c_str(), 0600) == 0);
  CATCH_REQUIRE(dir_error(tmp.path()) ==
                tmp.file("model.safetensors") + ": is not a regular file (a folder, a device or a pipe)");
  std::filesystem::remove(tmp.file("model.safetensors"));
  std::filesystem::create_directory(tmp.file("model.safetensors"));
  CATCH_REQUIRE(dir_error(tmp.path()) ==
                tmp.file("model.safetensors") + ": is not a regular file (a folder, a device or a pipe)");
}

CATCH_TEST_CASE("weights that are not BERT's", "[model_dir]") {
  TempDir tmp;
  write_model(tmp.path(), tiny_config(), {zeros("transformer.wte.weight", {8, 4})});
  CATCH_REQUIRE(dir_error(tmp.path()) == tmp.file("model.safetensors") +
                                             ": no embeddings.word_embeddings.weight (prefixes tried: \"\", bert., "
                                             "model., 0.auto_model.)");
  json cfg = tiny_config();
  cfg.erase("model_type");
  write_model(tmp.path(), cfg, {zeros("transformer.wte.weight", {8, 4})});
  CATCH_REQUIRE(dir_error(tmp.path()) == tmp.file("config.json") + ": no \"model_type\", and " +
                                             tmp.file("model.safetensors") +
                                             " has no embeddings.word_embeddings.weight (prefixes tried: \"\", bert., "
                                             "model., 0.auto_model.), so this is not a BERT checkpoint");

  write_model(tmp.path(), tiny_config(), {zeros("embeddings.word_embeddings.weight", {9, 4})});
  CATCH_REQUIRE(dir_error(tmp.path()) == tmp.file("model.safetensors") +
                                             ": tensor embeddings.word_embeddings.weight has shape [9, 4] but "
                                             "config.json says vocab_size 8 and hidden_size 4");

  write_file(tmp.file("model.safetensors"), "short");
  CATCH_REQUIRE(dir_error(tmp.path()) == tmp.file("model.safetensors") +
                                             ": file is 5 bytes, too short for the 8-byte safetensors header length");
}

CATCH_TEST_CASE("config.json errors name the file and the key", "[model_config]") {
  TempDir tmp;
  const std::string p = tmp.file("config.json");
  auto with = [&](const char* key, json value) {
    json cfg = tiny_config();
    cfg[key] = std::move(value);
    write_file(p, cfg.dump());
    return config_error(p);
  };
  auto without = [&](const char* key) {
    json cfg = tiny_config();
    cfg.erase(key);
    write_file(p, cfg.dump());
    return config_error(p);
  };

  CATCH_SECTION("bad JSON") {
    write_file(p, "{\"hidden_size\": 384,\n \"num_attention_heads\": }");
    CATCH_REQUIRE(config_error(p) == p + ": not valid JSON (byte 46): parse error at line 2, column 25: syntax error "
                                         "while parsing value - unexpected '}'; expected '[', '{', or a literal");
  }
  CATCH_SECTION("not an object") {
    write_file(p, "[]");
    CATCH_REQUIRE(config_error(p) == p + ": expected a JSON object");
  }
  CATCH_SECTION("unsupported position_embedding_type") {
    CATCH_REQUIRE(with("position_embedding_type", "relative_key") ==
                  p + ": key \"position_embedding_type\" is \"relative_key\"; only \"absolute\" is supported");
  }
  CATCH_SECTION("unsupported model_type") {
    CATCH_REQUIRE(with("model_type", "roberta") == p + ": key \"model_type\" is \"roberta\"; only \"bert\" is supported");
  }
  CATCH_SECTION("unsupported activation") {
    CATCH_REQUIRE(with("hidden_act", "relu") ==
                  p + ": key \"hidden_act\" is \"relu\"; supported: gelu, gelu_new, gelu_pytorch_tanh");
  }
  CATCH_SECTION("missing or mistyped dimension") {
    CATCH_REQUIRE(without("num_attention_heads") == p + ": missing key \"num_attention_heads\"");
    CATCH_REQUIRE(with("hidden_size", "384") == p + ": key \"hidden_size\" must be an integer >= 1, got \"384\"");
    CATCH_REQUIRE(with("num_hidden_layers", 0) == p + ": key \"num_hidden_layers\" must be an integer >= 1, got 0");
    CATCH_REQUIRE(with("hidden_size", 5) ==
                  p + ": key \"hidden_size\" (5) is not a multiple of \"num_attention_heads\" (2)");
    CATCH_REQUIRE(with("layer_norm_eps", "tiny") ==
                  p + ": key \"layer_norm_eps\" must be a non-negative number, got \"tiny\"");
    CATCH_REQUIRE(with("architectures", "BertModel") ==
                  p + ": key \"architectures\" must be an array of strings, got \"BertModel\"");
  }
  CATCH_SECTION("label maps") {
    CATCH_REQUIRE(with("id2label", {{"0", "a"}, {"2", "b"}}) ==
                  p + ": key \"id2label\": label indices must be 0..1 with each used once, got 2");
    CATCH_REQUIRE(with("id2label", {{"x", "a"}}) == p + ": key \"id2label\": \"x\" is not a label index");
    CATCH_REQUIRE(with("problem_type", "ranking") ==
                  p + ": key \"problem_type\" is \"ranking\"; expected regression, single_label_classification or "
                      "multi_label_classification");
    json cfg = tiny_config();
    cfg["id2label"] = {{"0", "a"}, {"1", "b"}};
    cfg["num_labels"] = 3;
    write_file(p, cfg.dump());
    CATCH_REQUIRE(config_error(p) ==
                  p + ": key \"num_labels\" (3) disagrees with the 2 labels in \"id2label\"/\"label2id\"");
  }
  CATCH_SECTION("missing file") {
    CATCH_REQUIRE(config_error(p) == p + ": not found");
  }
}

CATCH_TEST_CASE("config.json optional keys and label sources", "[model_config]") {
  TempDir tmp;
  const std::string p = tmp.file("config.json");

  json cfg = tiny_config();
  for (const char* key : {"max_position_embeddings", "type_vocab_size", "pad_token_id", "layer_norm_eps", "hidden_act",
                          "position_embedding_type", "architectures", "model_type"}) {
    cfg.erase(key);
  }
  cfg["problem_type"] = nullptr;  // transformers writes null for "unset"
  write_file(p, cfg.dump());
  auto c = parse_bert_config(p);
  CATCH_REQUIRE(c.max_position_embeddings == 512);
  CATCH_REQUIRE(c.type_vocab_size == 2);
  CATCH_REQUIRE(c.pad_token_id == 0);
  CATCH_REQUIRE(c.layer_norm_eps == 1e-12);
  CATCH_REQUIRE(c.hidden_act == "gelu");
  CATCH_REQUIRE(c.position_embedding_type == "absolute");
  CATCH_REQUIRE(c.architectures.empty());
  CATCH_REQUIRE(c.model_type.empty());
  CATCH_REQUIRE(c.problem_type.empty());
  CATCH_REQUIRE(c.num_labels == 0);

  cfg = tiny_config();
  cfg["hidden_act"] = "gelu_pytorch_tanh";
  cfg["label2id"] = {{"neg", 1}, {"pos", 0}};
  write_file(p, cfg.dump());
  c = parse_bert_config(p);
  CATCH_REQUIRE(c.hidden_act == "gelu_pytorch_tanh");
  CATCH_REQUIRE(c.num_labels == 2);
  CATCH_REQUIRE(c.id2label == std::vector<std::string>{"pos", "neg"});

  cfg = tiny_config();
  cfg["hidden_act"] = "gelu_new";
  cfg["num_labels"] = 1;
  cfg["problem_type"] = "regression";
  write_file(p, cfg.dump());
  c = parse_bert_config(p);
  CATCH_REQUIRE(c.hidden_act == "gelu_new");
  CATCH_REQUIRE(c.num_labels == 1);
  CATCH_REQUIRE(c.id2label == std::vector<std::string>{"LABEL_0"});
  CATCH_REQUIRE(c.problem_type == "regression");
}
