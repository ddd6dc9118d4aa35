// The tokenizer against transformers' slow BertTokenizer (tests/golden/make_golden.py): every text of
// seven GLUE dev sets, the cased variant on CoLA, truncated pair encodings, and hard strings.
#include <chrono>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include "golden_io.h"
#include "test_env.h"
#include "text/tokenizer.h"
#include "text/vocab.h"

using hs::text::Tokenizer;
using nlohmann::json;

namespace {

struct GlueTask {
  std::string name;
  bool has_header;
  std::vector<size_t> text_cols;
};

const std::vector<GlueTask> kTasks = {
    {"CoLA", false, {3}},     {"SST-2", true, {0}},   {"MRPC", true, {3, 4}}, {"STS-B", true, {7, 8}},
    {"RTE", true, {1, 2}},    {"QNLI", true, {1, 2}}, {"WNLI", true, {1, 2}},
};

const GlueTask& task(const std::string& name) {
  for (const auto& t : kTasks)
    if (t.name == name) return t;
  throw std::runtime_error("unknown task " + name);
}

std::string golden(const std::string& file) { return hs::test::golden_dir() + "/tokenizer/" + file; }

std::vector<std::vector<std::string>> glue_rows(const std::string& glue, const GlueTask& t) {
  return hs::test::read_glue_rows(glue + "/" + t.name + "/dev.tsv", t.has_header);
}

std::string show(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    out << (i ? " " : "");
    if (ids[i] >= 0 && static_cast<size_t>(ids[i]) < tok.vocab_size()) out << tok.token(ids[i]);
    out << "(" << ids[i] << ")";
  }
  return out.str() + "]";
}

std::vector<int32_t> parse_ids(const std::string& field) {
  std::vector<int32_t> ids;
  if (field.empty()) return ids;
  for (const std::string& s : hs::test::split(field, ' ')) ids.push_back(static_cast<int32_t>(std::stol(s)));
  return ids;
}

// Compares every line of a <TASK>.dev*.tsv.gz golden file; returns a report of the first mismatches.
std::string compare_task(const Tokenizer& tok, const std::string& glue, const GlueTask& t, const std::string& file,
                         size_t& checked) {
  const auto rows = glue_rows(glue, t);
  std::vector<std::string> lines = hs::test::split(hs::test::read_gz(golden(file)), '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  std::ostringstream report;
  if (lines.size() != rows.size() * t.text_cols.size())
    report << file << ": " << lines.size() << " golden lines for " << rows.size() << " rows x "
           << t.text_cols.size() << " columns\n";
  size_t bad = 0;
  for (const std::string& line : lines) {
    const auto f = hs::test::split(line, '\t');
    if (f.size() != 3) {
      report << file << ": malformed line: " << line << "\n";
      ++bad;
      continue;
    }
    const size_t row = std::stoul(f[0]), col = std::stoul(f[1]);
    if (row >= rows.size() || col >= rows[row].size()) {
      report << file << ": row " << row << " col " << col << " not in the GLUE file\n";
      ++bad;
      continue;
    }
    const std::string& text = rows[row][col];
    const std::vector<int32_t> expected = parse_ids(f[2]);
    const std::vector<int32_t> actual = tok.tokenize_ids(text);
    ++checked;
    if (actual == expected) continue;
    if (++bad <= 5)
      report << file << " row " << row << " col " << col << "\n  text:     " << text
             << "\n  expected: " << show(tok, expected) << "\n  actual:   " << show(tok, actual) << "\n";
  }
  if (bad > 0) report << file << ": " << bad << " of " << lines.size() << " lines differ\n";
  return report.str();
}

Tokenizer cased_tokenizer(const std::string& model) {
  hs::text::TokenizerOptions opts;
  opts.do_lower_case = false;
  return Tokenizer(hs::text::Vocab::read_file(model + "/vocab.txt"), opts);
}

std::string from_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

}  // namespace

CATCH_TEST_CASE("every GLUE dev text tokenizes as the slow BertTokenizer does", "[text][golden]") {
  HS_REQUIRE_GLUE(glue);
  HS_REQUIRE_MODEL(model);
  const Tokenizer tok = Tokenizer::from_model_dir(model);
  size_t checked = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (const GlueTask& t : kTasks) {
    const std::string report = compare_task(tok, glue, t, t.name + ".dev.tsv.gz", checked);
    if (!report.empty()) CATCH_FAIL_CHECK(report);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CATCH_CHECK(checked > 17000);
  CATCH_WARN("tokenized " << checked << " GLUE dev texts in " << secs << " s (including file reading)");
}

CATCH_TEST_CASE("CoLA dev tokenizes as the slow cased BertTokenizer does", "[text][golden]") {
  HS_REQUIRE_GLUE(glue);
  HS_REQUIRE_MODEL(model);
  size_t checked = 0;
  const std::string report = compare_task(cased_tokenizer(model), glue, task("CoLA"), "CoLA.dev.cased.tsv.gz", checked);
  if (!report.empty()) CATCH_FAIL_CHECK(report);
  CATCH_CHECK(checked == 1043);
}

CATCH_TEST_CASE("pair encodings with longest_first truncation match transformers", "[text][golden]") {
  HS_REQUIRE_GLUE(glue);
  HS_REQUIRE_MODEL(model);
  const Tokenizer tok = Tokenizer::from_model_dir(model);
  std::map<std::string, std::vector<std::vector<std::string>>> rows;
  size_t n = 0, bad = 0;
  for (const std::string& line : hs::test::split(hs::test::read_gz(golden("pairs.jsonl.gz")), '\n')) {
    if (line.empty()) continue;
    const json rec = json::parse(line);
    const GlueTask& t = task(rec.at("task").get<std::string>());
    if (!rows.count(t.name)) rows[t.name] = glue_rows(glue, t);
    const auto& r = rows[t.name].at(rec.at("row").get<size_t>());
    const int max_len = rec.at("max_length").get<int>();
    const auto expected_ids = rec.at("input_ids").get<std::vector<int32_t>>();
    const auto expected_types = rec.at("token_type_ids").get<std::vector<int32_t>>();
    const hs::text::Encoding e = tok.encode_pair(r.at(t.text_cols[0]), r.at(t.text_cols[1]), max_len);
    ++n;
    if (e.input_ids == expected_ids && e.token_type_ids == expected_types) continue;
    if (++bad <= 5)
      CATCH_FAIL_CHECK(t.name << " row " << rec["row"] << " max_length " << max_len << "\n  a: " << r[t.text_cols[0]]
                              << "\n  b: " << r[t.text_cols[1]] << "\n  expected: " << show(tok, expected_ids)
                              << " types " << json(expected_types).dump() << "\n  actual:   "
                              << show(tok, e.input_ids) << " types " << json(e.token_type_ids).dump());
  }
  CATCH_CHECK(bad == 0);
  CATCH_CHECK(n == 800);
}

CATCH_TEST_CASE("hard strings tokenize as the slow BertTokenizer does, lower-cased and cased", "[text][golden]") {
  HS_REQUIRE_MODEL(model);
  const Tokenizer lower = Tokenizer::from_model_dir(model);
  const Tokenizer cased = cased_tokenizer(model);
  size_t n = 0;
  for (const std::string& line : hs::test::split(hs::test::read_gz(golden("tricky.jsonl")), '\n')) {
    if (line.empty()) continue;
    const json rec = json::parse(line);
    const std::string text = from_hex(rec.at("utf8_hex").get<std::string>());
    CATCH_REQUIRE(text == rec.at("text").get<std::string>());
    for (const auto& [key, tok] : {std::pair<const char*, const Tokenizer*>{"lower", &lower}, {"cased", &cased}}) {
      const auto expected = rec.at(key).get<std::vector<int32_t>>();
      const auto actual = tok->tokenize_ids(text);
      if (actual != expected)
        CATCH_FAIL_CHECK(key << ": " << rec.at("text").dump() << "\n  expected: " << show(*tok, expected)
                             << "\n  actual:   " << show(*tok, actual));
    }
    ++n;
  }
  CATCH_CHECK(n >= 40);
}
