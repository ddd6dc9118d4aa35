#pragma once
// A real checkpoint and the first examples of a GLUE dev set, tokenized for the checkpoint's head:
// STS-B pairs for all-MiniLM-L6-v2's similarity head are what the golden-fixture tests of the sweep
// module compare against Hugging Face on.
#include <cstdint>
#include <string>
#include <vector>

#include "data/glue_tasks.h"
#include "model/bert.h"
#include "model/model_dir.h"
#include "sweep/head.h"
#include "sweep/inputs.h"
#include "text/tokenizer.h"

namespace hs::test {

struct GlueInputs {
  hs::model::ModelDir dir;
  hs::model::BertModel model;
  const hs::data::TaskSpec& task;
  hs::data::Dataset data;
  hs::text::Tokenizer tok;
  hs::sweep::HeadSpec head;
  hs::sweep::ScoringInputs inputs;
  std::vector<double> gold;

  GlueInputs(const std::string& model_path, const std::string& glue, int64_t examples,
             const std::string& task_name = "stsb")
      : dir(hs::model::inspect_model_dir(model_path)),
        model(hs::model::BertModel::load(dir)),
        task(hs::data::find_task(task_name)),
        data(hs::data::load_split(task, glue, "dev", examples)),
        tok(hs::text::Tokenizer::from_model_dir(model_path)),
        head(hs::sweep::resolve_head(dir, task, "auto", "auto")),
        inputs(hs::sweep::build_inputs(data, tok, head, 128)) {
    for (const auto& ex : data.examples) gold.push_back(ex.label);
  }
};

}  // namespace hs::test
