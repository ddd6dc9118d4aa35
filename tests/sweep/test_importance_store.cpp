// ImportanceStore: what it keeps (whole importances, and the finished batches of one) comes back
// exactly (bit for bit, NaN included), only to a run with the same key; a record cut short by a
// crash is dropped and the store goes on; a second run on the same file is refused while the first
// holds it; remove() and an empty store leave no file.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "sweep/importance_store.h"
#include "temp_dir.h"
#include "util/error.h"

using hs::io::HeadImportance;
using hs::sweep::ImportanceStore;
namespace fs = std::filesystem;

namespace {

HeadImportance importance(double base) {
  HeadImportance h;
  h.method = "michel";
  h.split = "train";
  h.examples = 12;
  h.tokens = 345;
  h.mean_loss = base / 3;
  h.normalized = true;
  // Values a decimal round trip would not keep exactly, and a NaN.
  h.scores = {base / 7, 1e-300, -0.0, std::numeric_limits<double>::quiet_NaN(), base * M_PI, 5e-324};
  h.raw = {base / 11, 2, 3, 4, 5, 6};
  return h;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

void check_same(const HeadImportance& a, const HeadImportance& b) {
  CATCH_CHECK(a.method == b.method);
  CATCH_CHECK(a.split == b.split);
  CATCH_CHECK(a.examples == b.examples);
  CATCH_CHECK(a.tokens == b.tokens);
  CATCH_CHECK(std::memcmp(&a.mean_loss, &b.mean_loss, sizeof(double)) == 0);
  CATCH_CHECK(a.normalized == b.normalized);
  CATCH_CHECK(same_bits(a.scores, b.scores));
  CATCH_CHECK(same_bits(a.raw, b.raw));
}

const std::vector<uint8_t> kFull = {1, 1, 1, 1, 1, 1}, kPruned = {1, 0, 1, 1, 1, 0}, kOther = {0, 1, 1, 1, 1, 1};

}  // namespace

CATCH_TEST_CASE("importances kept come back exactly, to a run with the same key only", "[sweep][importance_store]") {
  hs::test::TempDir dir;
  const std::string path = dir.file("out.h5.importance");
  {
    ImportanceStore store(path, "sweep A", false);
    CATCH_CHECK(store.size() == 0);
    CATCH_CHECK_FALSE(store.find(kFull));
    store.add(kFull, importance(1));
    store.add(kPruned, importance(2));
  }
  CATCH_REQUIRE(fs::exists(path));  // kept: the run did not finish
  {
    ImportanceStore store(path, "sweep A", false);
    CATCH_REQUIRE(store.size() == 2);
    CATCH_REQUIRE(store.find(kFull));
    check_same(*store.find(kFull), importance(1));
    check_same(*store.find(kPruned), importance(2));
    CATCH_CHECK_FALSE(store.find(kOther));
    store.add(kOther, importance(3));
  }
  {
    ImportanceStore store(path, "sweep A", false);
    CATCH_CHECK(store.size() == 3);
    check_same(*store.find(kOther), importance(3));
  }
  {
    // Another sweep at the same output path reads nothing back, and its store replaces the old one.
    ImportanceStore store(path, "sweep B", false);
    CATCH_CHECK(store.size() == 0);
    store.add(kFull, importance(4));
  }
  {
    ImportanceStore store(path, "sweep A", false);
    CATCH_CHECK(store.size() == 0);
  }
  // The store above kept nothing, so it left no file.
  CATCH_CHECK_FALSE(fs::exists(path));
  {
    ImportanceStore store(path, "sweep A", false);
    store.add(kFull, importance(5));
  }
  {
    // A run that replaces its results file (output.overwrite) starts afresh.
    ImportanceStore store(path, "sweep A", true);
    CATCH_CHECK(store.size() == 0);
    store.add(kPruned, importance(6));
    store.remove();
    CATCH_CHECK_FALSE(fs::exists(path));
  }
}

CATCH_TEST_CASE("a record cut short by a crash is dropped, and the store goes on after it", "[sweep][importance_store]") {
  hs::test::TempDir dir;
  const std::string path = dir.file("out.h5.importance");
  {
    ImportanceStore store(path, "sweep A", false);
    store.add(kFull, importance(1));
    store.add(kPruned, importance(2));
  }
  // As a kill during the last write leaves it: the last record without its end.
  const auto size = fs::file_size(path);
  fs::resize_file(path, size - 40);
  {
    ImportanceStore store(path, "sweep A", false);
    CATCH_CHECK(store.size() == 1);
    check_same(*store.find(kFull), importance(1));
    store.add(kOther, importance(3));
  }
  {
    ImportanceStore store(path, "sweep A", false);
    CATCH_CHECK(store.size() == 2);
    check_same(*store.find(kOther), importance(3));
  }
  // Bytes that are not a record end what is read back, and go.
  { std::ofstream(path, std::ios::app) << "{\"mask\": \"111111\", \"method\": 3}\n"; }
  {
    ImportanceStore store(path, "sweep A", false);
    CATCH_CHECK(store.size() == 2);
    store.add(kPruned, importance(2));
  }
  ImportanceStore store(path, "sweep A", false);
  CATCH_CHECK(store.size() == 3);
  check_same(*store.find(kPruned), importance(2));
}

CATCH_TEST_CASE("a record damaged on disk is dropped with those after it, though the file's length is intact",
                "[sweep][importance_store]") {
  hs::test::TempDir dir;
  const std::string path = dir.file("out.h5.importance");
  {
    ImportanceStore store(path, "sweep A", false);
    store.add(kFull, importance(1));
    store.add(kPruned, importance(2));
    store.add(kOther, importance(3));
  }
  // One digit of a double's bits in the second record: still valid JSON, a different number.
  std::string text;
  {
    std::ifstream in(path, std::ios::binary);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const size_t second = text.find('\n', text.find('\n') + 1) + 1;
  const size_t digit = text.find_first_of("123456789", text.find("\"raw\"", second));
  text[digit] = text[digit] == '9' ? '8' : static_cast<char>(text[digit] + 1);
  { std::ofstream(path, std::ios::binary) << text; }
  {
    ImportanceStore store(path, "sweep A", false);
    CATCH_CHECK(store.size() == 1);
    check_same(*store.find(kFull), importance(1));
    CATCH_CHECK_FALSE(store.find(kPruned));
    CATCH_CHECK_FALSE(store.find(kOther));
  }
  // A damaged first line (the header) starts the store afresh.
  { std::ofstream(path, std::ios::binary | std::ios::in | std::ios::out).write("[", 1); }
  ImportanceStore store(path, "sweep A", false);
  CATCH_CHECK(store.size() == 0);
}

CATCH_TEST_CASE("a second run on the same store is refused while the first holds it", "[sweep][importance_store]") {
  hs::test::TempDir dir;
  const std::string path = dir.file("out.h5.importance");
  std::optional<ImportanceStore> first;
  first.emplace(path, "sweep A", false);
  first->add(kFull, importance(1));
  CATCH_REQUIRE_THROWS_AS(ImportanceStore(path, "sweep A", false), hs::InputError);
  CATCH_REQUIRE_THROWS_WITH(ImportanceStore(path, "sweep A", true),
                            Catch::Matchers::StartsWith(path + ": held by another run of the same results file"));
  // The refused runs changed nothing.
  first->add(kPruned, importance(2));
  first.reset();
  ImportanceStore again(path, "sweep A", false);
  CATCH_CHECK(again.size() == 2);
}

CATCH_TEST_CASE("the store's folder is made when the output's is missing", "[sweep][importance_store]") {
  hs::test::TempDir dir;
  const std::string path = dir.file("results/run-1/out.h5.importance");
  ImportanceStore store(path, "sweep A", false);
  store.add(kFull, importance(1));
  CATCH_CHECK(fs::exists(path));
}

namespace {

hs::sweep::ImportancePart part(double base) {
  hs::sweep::ImportancePart p;
  p.abs_sum = {base / 3, 1e-310, std::numeric_limits<double>::quiet_NaN(), 4, 5, 6};
  p.sum = {-base / 7, 2, 3, 4, 5, 6};
  p.loss = base / 9;
  p.tokens = 40 + static_cast<int64_t>(base);
  p.examples = 5;
  return p;
}

void check_same(const hs::sweep::ImportancePart& a, const hs::sweep::ImportancePart& b) {
  CATCH_CHECK(same_bits(a.abs_sum, b.abs_sum));
  CATCH_CHECK(same_bits(a.sum, b.sum));
  CATCH_CHECK(std::memcmp(&a.loss, &b.loss, sizeof(double)) == 0);
  CATCH_CHECK(a.tokens == b.tokens);
  CATCH_CHECK(a.examples == b.examples);
}

}  // namespace

CATCH_TEST_CASE("an importance's finished batches are kept until the whole importance is", "[sweep][importance_store]") {
  hs::test::TempDir dir;
  const std::string path = dir.file("out.h5.importance");
  {
    ImportanceStore store(path, "sweep A", false);
    std::unique_ptr<hs::sweep::ImportanceParts> parts = store.parts(kPruned);
    // Added from the importance's workers at once.
    std::vector<std::thread> workers;
    for (int k = 0; k < 8; ++k) workers.emplace_back([&, k] { parts->add(k, part(k)); });
    for (std::thread& t : workers) t.join();
    CATCH_CHECK(store.parts_kept(kPruned) == 8);
    CATCH_CHECK(store.parts_kept(kFull) == 0);
    CATCH_CHECK(store.size() == 0);
  }
  CATCH_REQUIRE(fs::exists(path));  // batches alone are worth keeping
  {
    ImportanceStore store(path, "sweep A", false);
    CATCH_REQUIRE(store.parts_kept(kPruned) == 8);
    const std::unique_ptr<hs::sweep::ImportanceParts> parts = store.parts(kPruned);
    for (int k = 0; k < 8; ++k) {
      CATCH_REQUIRE(parts->find(k));
      check_same(*parts->find(k), part(k));
    }
    CATCH_CHECK_FALSE(parts->find(8));
    CATCH_CHECK_FALSE(store.parts(kFull)->find(0));
    // The whole importance replaces its batches.
    store.add(kPruned, importance(1));
    CATCH_CHECK(store.parts_kept(kPruned) == 0);
  }
  ImportanceStore store(path, "sweep A", false);
  CATCH_CHECK(store.parts_kept(kPruned) == 0);
  CATCH_CHECK(store.size() == 1);
}
