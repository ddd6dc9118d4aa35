#pragma once
// A trie group's per-sequence outputs, kept on disk as its batches finish. The trie scores a group's
// masks only once the group has seen every batch, so without this a killed run lost the whole
// group: with a single-head sweep of a large dev set on a CPU, that is every mask and hours of work.
// A run resumed with the same group (the same masks, sequences, outputs and batches) reads the
// finished batches back and runs only the rest.
#include <cstdint>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "sweep/inputs.h"

namespace hs::sweep {

class GroupStore {
 public:
  virtual ~GroupStore() = default;
  // A group starts: `outputs` holds its k masks' (S, X) outputs, in the order of `masks`. Returns
  // which batches were read back into `outputs` from an earlier run of exactly this group (all false
  // when there was none), and from now on keeps this group.
  virtual std::vector<bool> begin(const std::vector<int64_t>& masks, const std::vector<Batch>& batches,
                                  std::vector<at::Tensor>& outputs) = 0;
  // Batch bi's rows of every output are final; they are on disk when this returns.
  virtual void batch_done(size_t bi, const std::vector<at::Tensor>& outputs) = 0;
  // The group's masks are in the results file: its outputs are no longer needed.
  virtual void end() = 0;
};

// Keeps the group in one file, `path` (the results file's name with ".group" after it), removed by
// end(). `key` names the run (its results file's identity), so that a file left by another sweep is
// never read back. Layout: a header (magic, k, S, X, the batch count, a fingerprint of the batches'
// sequences, the key, the k mask indices), one 8-byte record per batch (the CRC-32 of its block and a
// done marker), then batch after batch, each as k × (its sequences) × X float32, in `masks` order. A
// batch's bytes are synced before its record; a block whose CRC does not match is computed again.
class FileGroupStore : public GroupStore {
 public:
  FileGroupStore(std::string path, std::string key);
  ~FileGroupStore() override;
  FileGroupStore(const FileGroupStore&) = delete;
  FileGroupStore& operator=(const FileGroupStore&) = delete;

  std::vector<bool> begin(const std::vector<int64_t>& masks, const std::vector<Batch>& batches,
                          std::vector<at::Tensor>& outputs) override;
  void batch_done(size_t bi, const std::vector<at::Tensor>& outputs) override;
  void end() override;
  // Removes the file, if any (a run that starts its results file afresh).
  void discard();

  const std::string& path() const { return path_; }
  int64_t batches_resumed() const { return resumed_; }  // by the last begin()

 private:
  void close();

  std::string path_, key_;
  int fd_ = -1;
  const std::vector<Batch>* batches_ = nullptr;
  std::vector<int64_t> offsets_;  // (batches + 1) byte offset of each batch's block
  int64_t done_at_ = 0;           // offset of the done bytes
  int64_t resumed_ = 0;
};

}  // namespace hs::sweep
