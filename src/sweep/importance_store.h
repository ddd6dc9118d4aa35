#pragma once
// Gradient importances a run computes before its sweep, kept on disk as each finishes. The results
// file is made only once the importance and the pruning curves are known (the curves' masks belong
// to the sweep), and with pruning.recompute a curve takes one importance per step: without this, a
// run stopped or killed in that phase lost all of it, and even a resumed sweep computed it again.
// A rerun of the same sweep reads back what was kept and computes only the rest: whole importances,
// and the finished batches of one that was cut short.
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "io/results.h"
#include "sweep/importance.h"

namespace hs::sweep {

// One file, the results file's name with ".importance" after it, removed by remove() when the run
// has finished. `key` names the sweep and the data the importance is taken on, so that a file left
// by another sweep at the same output path is never read back. The file is locked while a run holds
// it. Layout: JSON lines; the first {"format", "key"}, then one record per importance (the mask,
// "0"/"1" per head, and the io::HeadImportance fields) or per finished batch of one (the mask, the
// batch and the ImportancePart fields), doubles as their IEEE-754 bits so that what is read back is
// exactly what was computed; each line ends in its CRC-32. Each record is synced before it is taken
// as kept; a record cut short by a crash, or damaged on disk, is dropped (with any after it) when the
// file is next opened.
class ImportanceStore {
 public:
  // Opens or creates `path`. Records under another key, or every record when `fresh` (a run that
  // replaces its results file), are dropped. InputError when another run holds the file.
  ImportanceStore(std::string path, std::string key, bool fresh);
  ~ImportanceStore();
  ImportanceStore(const ImportanceStore&) = delete;
  ImportanceStore& operator=(const ImportanceStore&) = delete;

  // The importance kept for `mask` ((L, H) row-major, 1 = kept), if any.
  std::optional<io::HeadImportance> find(const std::vector<uint8_t>& mask) const;
  // Keeps `h` as the importance at `mask`; on disk when this returns.
  void add(const std::vector<uint8_t>& mask, const io::HeadImportance& h);
  // The finished batches of the importance at `mask`, for gradient_importance: those kept are read
  // back, and each batch it finishes is kept. Valid while the store is.
  std::unique_ptr<ImportanceParts> parts(const std::vector<uint8_t>& mask);
  // Batches of the importance at `mask` kept so far.
  size_t parts_kept(const std::vector<uint8_t>& mask) const;
  // The run has finished: the file goes.
  void remove();

  const std::string& path() const { return path_; }
  size_t size() const { return records_.size(); }  // whole importances kept

 private:
  class Parts;
  void write_at_end(const std::string& line);  // with mutex_ held

  std::string path_, key_;
  int fd_ = -1;
  int64_t end_ = 0;  // bytes of complete lines
  mutable std::mutex mutex_;  // parts are added from the importance's workers
  std::map<std::string, io::HeadImportance> records_;
  std::map<std::string, std::map<int64_t, ImportancePart>> parts_;  // mask -> batch -> part
};

}  // namespace hs::sweep
