// `headsweep run` end to end on checkpoints with a task head (BertForSequenceClassification layout,
// built from the MiniLM weights and the seeded classifiers of tests/golden/heads.*): the predictions
// stored in the results file, read back by h5py, must be Hugging Face's, and the scores must follow
// from them.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "classifier_checkpoint.h"
#include "cli_runner.h"
#include "test_env.h"

using hs::test::run_cli;

namespace {

// Removes a folder at scope exit (the checkpoint copies are 90 MB each).
struct RemoveAtExit {
  std::string path;
  ~RemoveAtExit() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

std::string baseline_config(const std::string& model, const std::string& task, const std::string& glue,
                            const std::string& out, const std::string& model_extra = "") {
  return fmt::format(R"(model:
  path: {}
{}task:
  name: {}
  data_dir: {}
  limit: 16
sweep:
  strategy: baseline
runtime:
  threads: 2
  progress: none
output:
  path: {}
  overwrite: true
)",
                     model, model_extra, task, glue, out);
}

// Runs the baseline for `task` on its classifier checkpoint and returns what h5py reads back:
// {"predictions": row 0 of /predictions, "labels": /examples/label, "scores": {metric: /scores/<m>[0]}}.
nlohmann::json run_baseline(const std::string& minilm, const std::string& glue, const std::string& task,
                            const std::string& expect_head, const std::string& model_extra = "") {
  const std::string dir = hs::test::temp_dir("heads-" + task);
  const std::string model = dir + "/model";
  const RemoveAtExit cleanup{model};
  hs::test::write_classifier_model_dir(model, minilm, hs::test::golden_dir(), task);
  const std::string out = dir + "/results.h5";
  hs::test::write_file(dir + "/run.yaml", baseline_config(model, task, glue, out, model_extra));
  const auto r = run_cli({"run", dir + "/run.yaml"});
  CATCH_INFO(r.out << r.err);
  CATCH_REQUIRE(r.status == 0);
  CATCH_CHECK(r.out.find("16 examples, " + expect_head + " head") != std::string::npos);
  const std::string cmd = fmt::format(
      "/usr/bin/python3 -c \"import h5py, json; f = h5py.File('{0}', 'r'); "
      "json.dump({{'predictions': f['predictions'][0].tolist(), 'labels': f['examples/label'][()].tolist(), "
      "'scores': {{m: float(f['scores'][m][0]) for m in f['scores']}}}}, open('{1}/read.json', 'w'))\"",
      out, dir);
  CATCH_REQUIRE(std::system(cmd.c_str()) == 0);
  return hs::test::read_json(dir + "/read.json");
}

}  // namespace

CATCH_TEST_CASE("run: an RTE classifier with a reversed id2label stores Hugging Face's labels", "[cli][e2e][heads]") {
  HS_REQUIRE_MODEL(minilm);
  HS_REQUIRE_GLUE(glue);
  const nlohmann::json ref = hs::test::read_json(hs::test::golden_dir() + "/heads.json")["tasks"]["rte"];
  const auto expected = ref["masks"]["full"]["predicted_labels"].get<std::vector<int>>();
  const auto gold = ref["gold"].get<std::vector<int>>();
  const nlohmann::json got = run_baseline(minilm, glue, "rte", "classification");

  const auto preds = got["predictions"].get<std::vector<double>>();
  const auto labels = got["labels"].get<std::vector<double>>();
  CATCH_REQUIRE(preds.size() == expected.size());
  CATCH_REQUIRE(labels.size() == gold.size());
  int correct = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    CATCH_INFO("example " << i);
    CATCH_CHECK(preds[i] == expected[i]);
    CATCH_CHECK(labels[i] == gold[i]);
    correct += expected[i] == gold[i];
  }
  const double accuracy = static_cast<double>(correct) / static_cast<double>(expected.size());
  CATCH_CHECK(accuracy == ref["masks"]["full"]["accuracy"].get<double>());
  CATCH_CHECK(got["scores"]["accuracy"].get<double>() == accuracy);

  // model.labels overrides id2label: naming the outputs in the task's order (the reverse of what this
  // checkpoint was trained with) flips every predicted label.
  const nlohmann::json told =
      run_baseline(minilm, glue, "rte", "classification", "  labels: [entailment, not_entailment]\n");
  const auto flipped = told["predictions"].get<std::vector<double>>();
  CATCH_REQUIRE(flipped.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) CATCH_CHECK(flipped[i] == 1 - expected[i]);
}

CATCH_TEST_CASE("run: an STS-B regression head stores Hugging Face's logits and their correlations",
                "[cli][e2e][heads]") {
  HS_REQUIRE_MODEL(minilm);
  HS_REQUIRE_GLUE(glue);
  const nlohmann::json ref = hs::test::read_json(hs::test::golden_dir() + "/heads.json")["tasks"]["stsb"];
  const nlohmann::json& full = ref["masks"]["full"];
  const auto expected = full["predictions"].get<std::vector<double>>();
  const auto gold = ref["gold"].get<std::vector<double>>();
  const nlohmann::json got = run_baseline(minilm, glue, "stsb", "regression");

  const auto preds = got["predictions"].get<std::vector<double>>();
  const auto labels = got["labels"].get<std::vector<double>>();
  CATCH_REQUIRE(preds.size() == expected.size());
  CATCH_REQUIRE(labels.size() == gold.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    CATCH_INFO("example " << i << ": ours " << preds[i] << ", HF " << expected[i]);
    CATCH_CHECK(std::abs(preds[i] - expected[i]) <= 1e-5);
    CATCH_CHECK(labels[i] == gold[i]);
  }
  // The HF predictions are at least min_prediction_gap (~1e-3) apart, far more than the 1e-5 by which
  // ours may differ, so the ranks and with them Spearman are identical; Pearson moves by ~1e-6.
  CATCH_REQUIRE(full["min_prediction_gap"].get<double>() > 1e-4);
  const double spearman = got["scores"]["spearman"].get<double>(), pearson = got["scores"]["pearson"].get<double>();
  CATCH_INFO("ours: spearman " << spearman << " pearson " << pearson << "; HF: " << full["spearman"].get<double>()
                               << " " << full["pearson"].get<double>());
  CATCH_CHECK(std::abs(spearman - full["spearman"].get<double>()) <= 1e-12);
  CATCH_CHECK(std::abs(pearson - full["pearson"].get<double>()) <= 1e-5);
}

CATCH_TEST_CASE("run: model outputs that overflow leave the masks' scores NaN, and the sweep completes",
                "[cli][e2e][heads]") {
  // A regression head made to overflow sends outputs to inf, as an fp16 run can. Each mask is still
  // scored (masks_done), its scores and intervals are NaN, the run ends normally and says which
  // masks have no score.
  HS_REQUIRE_MODEL(minilm);
  HS_REQUIRE_GLUE(glue);
  const std::string dir = hs::test::temp_dir("heads-overflow");
  const std::string model = dir + "/model";
  const RemoveAtExit cleanup{model};
  hs::test::write_classifier_model_dir(model, minilm, hs::test::golden_dir(), "stsb", /*overflow=*/true);
  const std::string out = dir + "/results.h5";
  std::string config = baseline_config(model, "stsb", glue, out);
  config.replace(config.find("strategy: baseline"), 18, "strategy: layer");
  hs::test::write_file(dir + "/run.yaml", config + "stats:\n  bootstrap: 50\n");
  const auto r = run_cli({"run", dir + "/run.yaml"});
  CATCH_INFO(r.out << r.err);
  CATCH_REQUIRE(r.status == 0);
  CATCH_CHECK(r.out.find("7 of 7 masks have no spearman (NaN: constant predictions or gold labels, or model outputs that are "
                         "not finite): baseline -L0 -L1 -L2 -L3 ...") != std::string::npos);
  CATCH_CHECK(r.out.find("masks whose removal hurts") == std::string::npos);  // nothing to rank
  const std::string cmd = fmt::format(
      "/usr/bin/python3 -c \"import h5py, numpy as np; f = h5py.File('{}', 'r'); "
      "assert f.attrs['complete'] == 1 and f['masks_done'][()].all(); "
      "p = f['predictions'][()]; assert (~np.isfinite(p)).any(axis=1).all() and np.isfinite(p).any(); "
      "assert all(np.isnan(f['scores'][m][()]).all() for m in f['scores']); "
      "assert np.isnan(f['bootstrap/spearman_ci'][()]).all() and np.isnan(f['bootstrap/spearman_delta_p'][()]).all()\"",
      out);
  CATCH_CHECK(std::system(cmd.c_str()) == 0);
}
