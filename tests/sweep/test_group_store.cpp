// FileGroupStore: a group's finished batches come back only to a run of exactly that group (same
// key, masks, outputs and batches), into the right rows; end() removes the file.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include <ATen/ATen.h>
#include <catch2/catch.hpp>

#include "sweep/group_store.h"
#include "temp_dir.h"

using hs::sweep::Batch;
using hs::sweep::FileGroupStore;

namespace {

Batch batch(std::vector<int64_t> sequences) {
  Batch b;
  b.sequence_index = std::move(sequences);
  return b;
}

std::vector<at::Tensor> fresh(int k) {
  std::vector<at::Tensor> o;
  for (int m = 0; m < k; ++m) o.push_back(at::full({5, 2}, -1.f));  // (S, X)
  return o;
}

}  // namespace

CATCH_TEST_CASE("a group's finished batches are read back by a run of the same group only", "[sweep][group]") {
  hs::test::TempDir dir;
  const std::string path = dir.file("out.h5.group");
  const std::vector<Batch> batches = {batch({4, 0}), batch({2, 1, 3})};
  const std::vector<int64_t> masks = {7, 3};
  {
    FileGroupStore store(path, "run A");
    std::vector<at::Tensor> out = fresh(2);
    CATCH_CHECK(store.begin(masks, batches, out) == std::vector<bool>{false, false});
    // Batch 1 (sequences 2, 1, 3) finishes; batch 0 does not.
    for (int m = 0; m < 2; ++m) {
      for (int64_t s : {2, 1, 3}) out[m][s] = at::tensor({10.f * m + s, -s - 0.5f});
    }
    store.batch_done(1, out);
  }  // killed: the file stays
  CATCH_REQUIRE(std::filesystem::exists(path));
  {
    FileGroupStore store(path, "run A");
    std::vector<at::Tensor> out = fresh(2);
    CATCH_CHECK(store.begin(masks, batches, out) == std::vector<bool>{false, true});
    CATCH_CHECK(store.batches_resumed() == 1);
    for (int m = 0; m < 2; ++m) {
      for (int64_t s : {2, 1, 3}) {
        CATCH_CHECK(out[m][s][0].item<float>() == 10.f * m + s);
        CATCH_CHECK(out[m][s][1].item<float>() == -s - 0.5f);
      }
      for (int64_t s : {0, 4}) CATCH_CHECK(out[m][s][0].item<float>() == -1.f);  // batch 0: not read
    }
  }
  // Anything else about the group differs: nothing is read back (and the file starts over).
  auto resumed = [&](const std::string& key, const std::vector<int64_t>& m, const std::vector<Batch>& b, int X) {
    FileGroupStore store(path, key);
    std::vector<at::Tensor> out(m.size(), at::full({5, X}, -1.f));
    const std::vector<bool> have = store.begin(m, b, out);
    return std::count(have.begin(), have.end(), true);
  };
  CATCH_CHECK(resumed("run B", masks, batches, 2) == 0);
  // The file started over for run B; put run A's batch back for the next checks.
  {
    FileGroupStore store(path, "run A");
    std::vector<at::Tensor> out = fresh(2);
    store.begin(masks, batches, out);
    store.batch_done(1, out);
  }
  CATCH_CHECK(resumed("run A", {3, 7}, batches, 2) == 0);
  {
    FileGroupStore store(path, "run A");
    std::vector<at::Tensor> out = fresh(2);
    store.begin(masks, batches, out);
    store.batch_done(1, out);
  }
  CATCH_CHECK(resumed("run A", masks, {batch({4, 0, 2}), batch({1, 3})}, 2) == 0);
  {
    FileGroupStore store(path, "run A");
    std::vector<at::Tensor> out = fresh(2);
    store.begin(masks, batches, out);
    store.batch_done(1, out);
    store.end();
  }
  CATCH_CHECK_FALSE(std::filesystem::exists(path));
}

CATCH_TEST_CASE("a finished batch damaged on disk is computed again, not read back", "[sweep][group]") {
  // The length stays, so only the batch's CRC can tell: one flipped bit in its block, or in its
  // record, and the batch counts as not done.
  hs::test::TempDir dir;
  const std::string path = dir.file("out.h5.group");
  const std::vector<Batch> batches = {batch({4, 0}), batch({2, 1, 3})};
  const std::vector<int64_t> masks = {7, 3};
  auto finish_both = [&] {
    FileGroupStore store(path, "run A");
    std::vector<at::Tensor> out = fresh(2);
    store.begin(masks, batches, out);
    for (int m = 0; m < 2; ++m) out[m] = at::arange(10, at::kFloat).view({5, 2}) + 100 * m;
    store.batch_done(0, out);
    store.batch_done(1, out);
  };
  auto resumed = [&] {
    FileGroupStore store(path, "run A");
    std::vector<at::Tensor> out = fresh(2);
    return store.begin(masks, batches, out);
  };
  auto flip = [&](int64_t from_end) {  // one bit of the byte `from_end` bytes before the file's end
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-from_end, std::ios::end);
    char c = 0;
    f.read(&c, 1);
    c ^= 0x10;
    f.seekp(-from_end, std::ios::end);
    f.write(&c, 1);
  };
  finish_both();
  const auto size = std::filesystem::file_size(path);
  CATCH_CHECK(resumed() == std::vector<bool>{true, true});
  finish_both();
  // Blocks are k × (the batch's sequences) × X float32: batch 1's 48 bytes end the file, batch 0's
  // 32 come before them.
  flip(5);
  CATCH_CHECK(std::filesystem::file_size(path) == size);
  CATCH_CHECK(resumed() == std::vector<bool>{true, false});
  finish_both();
  flip(48 + 19);
  CATCH_CHECK(resumed() == std::vector<bool>{false, true});
}
