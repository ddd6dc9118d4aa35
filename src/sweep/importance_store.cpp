#include "sweep/importance_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <nlohmann/json.hpp>

#include "util/crc32.h"
#include "util/error.h"
#include "util/fd_io.h"

namespace hs::sweep {
namespace {

using json = nlohmann::json;

// Each line is JSON and its CRC-32 (util/crc32.h): a line damaged on disk, like one cut short by a
// crash, is dropped with everything after it, and computed again.
constexpr const char* kFormat = "headsweep importance store 2";
constexpr const char* kWhat = "the importances computed so far";

std::string mask_text(const std::vector<uint8_t>& mask) {
  std::string s(mask.size(), '0');
  for (size_t i = 0; i < mask.size(); ++i) s[i] = mask[i] ? '1' : '0';
  return s;
}

uint64_t bits_of(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

double double_of(uint64_t b) {
  double v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

json to_bits(const std::vector<double>& v) {
  json a = json::array();
  for (double x : v) a.push_back(bits_of(x));
  return a;
}

std::vector<double> from_bits(const json& a) {
  std::vector<double> v;
  for (const json& b : a) v.push_back(double_of(b.get<uint64_t>()));
  return v;
}

std::string record_line(const std::string& mask, const io::HeadImportance& h) {
  const json j = {{"mask", mask},
                  {"method", h.method},
                  {"split", h.split},
                  {"examples", h.examples},
                  {"tokens", h.tokens},
                  {"mean_loss", bits_of(h.mean_loss)},
                  {"normalized", h.normalized},
                  {"scores", to_bits(h.scores)},
                  {"raw", to_bits(h.raw)}};
  return with_crc(j.dump()) + "\n";
}

std::string part_line(const std::string& mask, int64_t batch, const ImportancePart& p) {
  const json j = {{"mask", mask},
                  {"batch", batch},
                  {"abs_sum", to_bits(p.abs_sum)},
                  {"sum", to_bits(p.sum)},
                  {"loss", bits_of(p.loss)},
                  {"tokens", p.tokens},
                  {"examples", p.examples}};
  return with_crc(j.dump()) + "\n";
}

ImportancePart parse_part(const json& j) {
  ImportancePart p;
  p.abs_sum = from_bits(j.at("abs_sum"));
  p.sum = from_bits(j.at("sum"));
  p.loss = double_of(j.at("loss").get<uint64_t>());
  p.tokens = j.at("tokens").get<int64_t>();
  p.examples = j.at("examples").get<int64_t>();
  return p;
}

io::HeadImportance parse_record(const json& j) {
  io::HeadImportance h;
  h.method = j.at("method").get<std::string>();
  h.split = j.at("split").get<std::string>();
  h.examples = j.at("examples").get<int64_t>();
  h.tokens = j.at("tokens").get<int64_t>();
  h.mean_loss = double_of(j.at("mean_loss").get<uint64_t>());
  h.normalized = j.at("normalized").get<bool>();
  h.scores = from_bits(j.at("scores"));
  h.raw = from_bits(j.at("raw"));
  return h;
}

}  // namespace

ImportanceStore::ImportanceStore(std::string path, std::string key, bool fresh)
    : path_(std::move(path)), key_(std::move(key)) {
  io::create_parent_folders(path_);
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) input_error("{}: cannot open {}: {}", path_, kWhat, std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd_);
    fd_ = -1;
    input_error("{}: held by another run of the same results file, which is still going; wait for it to finish, or "
                "give this run another output.path",
                path_);
  }
  struct stat st {};
  std::string text;
  if (::fstat(fd_, &st) == 0 && st.st_size > 0) {
    text.resize(static_cast<size_t>(st.st_size));
    if (!read_all(fd_, text.data(), text.size(), 0)) text.clear();
  }
  // Complete lines only: the first must be this sweep's header; a record cut short by a crash or
  // damaged on disk (its CRC), and anything after it, is dropped.
  bool ours = false;
  size_t pos = 0;
  while (!fresh) {
    const size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) break;
    const std::optional<std::string> line = checked_text(text.substr(pos, nl - pos));
    if (!line) break;
    const json j = json::parse(*line, nullptr, /*allow_exceptions=*/false);
    if (pos == 0) {
      ours = j.is_object() && j.value("format", "") == kFormat && j.value("key", "") == key_;
      if (!ours) break;
    } else {
      try {
        const std::string mask = j.at("mask").get<std::string>();
        if (j.contains("batch"))
          parts_[mask][j.at("batch").get<int64_t>()] = parse_part(j);
        else
          records_[mask] = parse_record(j);
      } catch (const json::exception&) {
        break;
      }
    }
    pos = nl + 1;
  }
  if (ours) {
    // The batches of an importance that was finished afterwards are of no more use.
    for (const auto& kv : records_) parts_.erase(kv.first);
    end_ = static_cast<int64_t>(pos);
    if (::ftruncate(fd_, end_) != 0) input_error("{}: cannot truncate {}: {}", path_, kWhat, std::strerror(errno));
    return;
  }
  records_.clear();
  parts_.clear();
  if (::ftruncate(fd_, 0) != 0) input_error("{}: cannot truncate {}: {}", path_, kWhat, std::strerror(errno));
  end_ = 0;
  write_at_end(with_crc(json({{"format", kFormat}, {"key", key_}}).dump()) + "\n");
}

ImportanceStore::~ImportanceStore() {
  if (fd_ < 0) return;
  // A store that kept nothing is of no use to a rerun.
  if (records_.empty() && parts_.empty()) ::unlink(path_.c_str());
  ::close(fd_);
}

std::optional<io::HeadImportance> ImportanceStore::find(const std::vector<uint8_t>& mask) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  const auto it = records_.find(mask_text(mask));
  if (it == records_.end()) return std::nullopt;
  return it->second;
}

void ImportanceStore::add(const std::vector<uint8_t>& mask, const io::HeadImportance& h) {
  const std::lock_guard<std::mutex> lock(mutex_);
  const std::string key = mask_text(mask);
  write_at_end(record_line(key, h));
  records_[key] = h;
  parts_.erase(key);
}

class ImportanceStore::Parts : public ImportanceParts {
 public:
  Parts(ImportanceStore& store, std::string mask) : store_(store), mask_(std::move(mask)) {}

  std::optional<ImportancePart> find(int64_t batch) const override {
    const std::lock_guard<std::mutex> lock(store_.mutex_);
    const auto m = store_.parts_.find(mask_);
    if (m == store_.parts_.end()) return std::nullopt;
    const auto it = m->second.find(batch);
    if (it == m->second.end()) return std::nullopt;
    return it->second;
  }

  void add(int64_t batch, const ImportancePart& part) override {
    const std::lock_guard<std::mutex> lock(store_.mutex_);
    store_.write_at_end(part_line(mask_, batch, part));
    store_.parts_[mask_][batch] = part;
  }

 private:
  ImportanceStore& store_;
  std::string mask_;
};

std::unique_ptr<ImportanceParts> ImportanceStore::parts(const std::vector<uint8_t>& mask) {
  return std::make_unique<Parts>(*this, mask_text(mask));
}

size_t ImportanceStore::parts_kept(const std::vector<uint8_t>& mask) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  const auto it = parts_.find(mask_text(mask));
  return it == parts_.end() ? 0 : it->second.size();
}

void ImportanceStore::remove() {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (fd_ < 0) return;
  ::unlink(path_.c_str());
  ::close(fd_);
  fd_ = -1;
}

void ImportanceStore::write_at_end(const std::string& line) {
  write_all(fd_, line.data(), line.size(), end_, path_, kWhat);
  sync_data(fd_, path_, kWhat);
  end_ += static_cast<int64_t>(line.size());
}

}  // namespace hs::sweep
