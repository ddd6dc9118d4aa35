// Attention statistics against Hugging Face: tests/golden/attention.json (make_golden.py) computes
// them from transformers' output_attentions over the sentences of the first 16 STS-B dev pairs,
// padded as one batch. Ours run on length-sorted batches (one, then many small ones), so padding
// differs; every statistic agrees within 1e-5.
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include <ATen/ATen.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "data/glue_tasks.h"
#include "model/model_dir.h"
#include "sweep/attention_stats.h"
#include "sweep/head.h"
#include "glue_inputs.h"
#include "test_env.h"
#include "text/token_classes.h"
#include "text/tokenizer.h"

CATCH_TEST_CASE("attention statistics equal those from Hugging Face's attentions", "[sweep][attention][golden]") {
  HS_REQUIRE_MODEL(model_path);
  HS_REQUIRE_GLUE(glue);
  std::ifstream f(hs::test::golden_dir() + "/attention.json");
  const nlohmann::json ref = nlohmann::json::parse(f);
  const hs::test::GlueInputs s(model_path, glue, ref["pairs"].get<int64_t>());
  const auto& [model, tok, inputs] = std::tie(s.model, s.tok, s.inputs);
  const std::vector<uint8_t> punct = hs::text::punctuation_token_table(tok);
  int64_t n_punct = 0;
  for (uint8_t p : punct) n_punct += p;
  CATCH_CHECK(n_punct == ref["punctuation_tokens"].get<int64_t>());
  for (const int64_t budget : {8192, 64}) {
    CATCH_INFO("token budget " << budget);
    const auto batches = hs::sweep::make_batches(inputs, budget, tok.pad_id());
    const hs::sweep::AttentionStatistics got =
        hs::sweep::attention_statistics(model, batches, punct, tok.cls_id(), tok.sep_id());
    CATCH_CHECK(got.tokens == ref["tokens"].get<int64_t>());
    CATCH_CHECK(got.sequences == ref["sequences"].get<int64_t>());
    CATCH_REQUIRE(got.stats.size() == 8);
    for (const auto& s : got.stats) {
      CATCH_INFO(s.name);
      std::vector<double> v;
      for (const auto& row : ref["statistics"][s.name])
        for (double x : row) v.push_back(x);
      const at::Tensor expected = at::tensor(v, at::kDouble).view({6, 12});
      CATCH_CHECK((s.values - expected).abs().max().item<double>() <= 1e-5);
    }
    // The masses of one query's distribution over [CLS], [SEP] and the rest add up to at most 1.
    CATCH_CHECK((got.stats[0].values + got.stats[1].values).max().item<double>() <= 1.0 + 1e-9);
  }
}
