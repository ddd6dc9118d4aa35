#include "sweep/group_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "util/crc32.h"
#include "util/error.h"
#include "util/fd_io.h"

namespace hs::sweep {
namespace {

constexpr char kMagic[8] = {'H', 'S', 'G', 'R', 'O', 'U', 'P', '2'};

// A finished batch's record: the CRC-32 of its block, then kDone. A block damaged on disk (a bad
// sector, a write lost when a node went down) fails its CRC and is computed again, rather than
// scored into a file that is then marked complete.
constexpr uint32_t kDone = 0x454e4f44;  // "DONE"
struct DoneRecord {
  uint32_t crc = 0, done = 0;
};

uint32_t block_crc(const at::Tensor& block) {
  return crc32_of(block.data_ptr(), static_cast<size_t>(block.numel()) * sizeof(float));
}

// FNV-1a over each batch's sequence list: a resumed run must have cut the same batches.
uint64_t fingerprint(const std::vector<Batch>& batches) {
  uint64_t h = 1469598103934665603ull;
  auto add = [&](int64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= static_cast<uint64_t>(v >> (8 * i)) & 0xff;
      h *= 1099511628211ull;
    }
  };
  for (const Batch& b : batches) {
    add(static_cast<int64_t>(b.sequence_index.size()));
    for (int64_t s : b.sequence_index) add(s);
  }
  return h;
}

std::vector<char> header(const std::vector<int64_t>& masks, int64_t S, int64_t X, const std::vector<Batch>& batches,
                         const std::string& key) {
  std::vector<char> h(kMagic, kMagic + 8);
  auto put = [&](const void* p, size_t n) { h.insert(h.end(), static_cast<const char*>(p), static_cast<const char*>(p) + n); };
  const int64_t fields[] = {static_cast<int64_t>(masks.size()), S, X, static_cast<int64_t>(batches.size()),
                            static_cast<int64_t>(key.size())};
  put(fields, sizeof fields);
  const uint64_t fp = fingerprint(batches);
  put(&fp, sizeof fp);
  put(key.data(), key.size());
  put(masks.data(), masks.size() * sizeof(int64_t));
  return h;
}

constexpr const char* kWhat = "the group's outputs";

}  // namespace

FileGroupStore::FileGroupStore(std::string path, std::string key) : path_(std::move(path)), key_(std::move(key)) {}

FileGroupStore::~FileGroupStore() { close(); }

void FileGroupStore::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void FileGroupStore::discard() {
  close();
  ::unlink(path_.c_str());
}

std::vector<bool> FileGroupStore::begin(const std::vector<int64_t>& masks, const std::vector<Batch>& batches,
                                        std::vector<at::Tensor>& outputs) {
  close();
  batches_ = &batches;
  resumed_ = 0;
  const int64_t k = static_cast<int64_t>(masks.size()), n = static_cast<int64_t>(batches.size());
  const int64_t S = k > 0 ? outputs[0].size(0) : 0, X = k > 0 ? outputs[0].size(1) : 0;
  const std::vector<char> head = header(masks, S, X, batches, key_);
  done_at_ = static_cast<int64_t>(head.size());
  offsets_.assign(1, (done_at_ + n * static_cast<int64_t>(sizeof(DoneRecord)) + 7) / 8 * 8);
  for (const Batch& b : batches) {
    offsets_.push_back(offsets_.back() + k * static_cast<int64_t>(b.sequence_index.size()) * X * 4);
  }
  std::vector<bool> have(batches.size(), false);

  // An earlier run of exactly this group: its finished batches are read back.
  fd_ = ::open(path_.c_str(), O_RDWR);
  if (fd_ >= 0) {
    std::vector<char> found(head.size());
    std::vector<DoneRecord> done(static_cast<size_t>(n));
    if (read_all(fd_, found.data(), found.size(), 0) && found == head &&
        read_all(fd_, done.data(), done.size() * sizeof(DoneRecord), done_at_)) {
      for (int64_t bi = 0; bi < n; ++bi) {
        if (done[bi].done != kDone) continue;
        const std::vector<int64_t>& idx = batches[bi].sequence_index;
        const int64_t B = static_cast<int64_t>(idx.size());
        at::Tensor block = at::empty({k, B, X}, at::kFloat);
        if (!read_all(fd_, block.data_ptr(), static_cast<size_t>(block.numel()) * 4, offsets_[bi]) ||
            block_crc(block) != done[bi].crc)
          continue;
        const at::Tensor rows = at::tensor(idx, at::kLong);
        for (int64_t m = 0; m < k; ++m) outputs[m].index_copy_(0, rows, block[m]);
        have[bi] = true;
        ++resumed_;
      }
      if (resumed_ > 0) {
        fmt::print(stderr, "headsweep: resuming {} masks scored together: {} of {} batches already done ({})\n", k,
                   resumed_, n, path_);
        return have;
      }
    }
    close();
  }
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd_ < 0) hs::input_error("{}: cannot create the group's outputs file: {}", path_, std::strerror(errno));
  std::vector<char> start = head;
  start.resize(static_cast<size_t>(offsets_[0]), 0);  // no batch done yet, padding
  write_all(fd_, start.data(), start.size(), 0, path_, kWhat);
  sync_data(fd_, path_, kWhat);
  return have;
}

void FileGroupStore::batch_done(size_t bi, const std::vector<at::Tensor>& outputs) {
  if (fd_ < 0 || !batches_) return;
  const at::Tensor rows = at::tensor((*batches_)[bi].sequence_index, at::kLong);
  std::vector<at::Tensor> parts;
  for (const at::Tensor& o : outputs) parts.push_back(o.index_select(0, rows));
  const at::Tensor block = at::stack(parts).to(at::kFloat).contiguous();  // (k, B, X)
  write_all(fd_, block.data_ptr(), static_cast<size_t>(block.numel()) * 4, offsets_[bi], path_, kWhat);
  // The rows reach the disk before the record that says they are there.
  sync_data(fd_, path_, kWhat);
  const DoneRecord record{block_crc(block), kDone};
  write_all(fd_, &record, sizeof record, done_at_ + static_cast<int64_t>(bi * sizeof record), path_, kWhat);
  sync_data(fd_, path_, kWhat);
}

void FileGroupStore::end() { discard(); }

}  // namespace hs::sweep
