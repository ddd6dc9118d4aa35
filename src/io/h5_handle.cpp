#include "io/h5_handle.h"

#include <stdexcept>

#include "util/error.h"

namespace hs::io {

H5Handle& H5Handle::operator=(H5Handle&& o) noexcept {
  if (this != &o) {
    reset();
    id_ = o.id_;
    o.id_ = H5I_INVALID_HID;
  }
  return *this;
}

bool H5Handle::reset() {
  if (id_ < 0) return true;
  herr_t rc = 0;
  switch (H5Iget_type(id_)) {
    case H5I_FILE: rc = H5Fclose(id_); break;
    case H5I_GROUP: rc = H5Gclose(id_); break;
    case H5I_DATASET: rc = H5Dclose(id_); break;
    case H5I_DATASPACE: rc = H5Sclose(id_); break;
    case H5I_DATATYPE: rc = H5Tclose(id_); break;
    case H5I_ATTR: rc = H5Aclose(id_); break;
    case H5I_GENPROP_LST: rc = H5Pclose(id_); break;
    default: rc = H5Idec_ref(id_) < 0 ? -1 : 0; break;
  }
  id_ = H5I_INVALID_HID;
  return rc >= 0;
}

H5Quiet::H5Quiet() {
  H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

H5Quiet::~H5Quiet() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

namespace {

herr_t keep_innermost(unsigned n, const H5E_error2_t* err, void* out) {
  // Walking downward, the last entry is where the failure started, which says the most.
  if (err->desc != nullptr) *static_cast<std::string*>(out) = err->desc;
  return 0;
}

}  // namespace

std::string h5_error_detail() {
  std::string detail;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, keep_innermost, &detail);
  return detail;
}

std::optional<std::string> h5_system_error(const std::string& detail) {
  // HDF5's file driver reports a failed read or write as "…, errno = 28, error message = 'No space
  // left on device', …".
  const std::string key = "error message = '";
  const size_t at = detail.find(key);
  if (at == std::string::npos) return std::nullopt;
  const size_t from = at + key.size(), to = detail.find('\'', from);
  if (to == std::string::npos) return std::nullopt;
  return detail.substr(from, to - from);
}

bool h5_lock_failure(const std::string& detail) {
  // The whole phrase: a truncated file's message mentions the "sblock" (superblock).
  return detail.find("unable to lock file") != std::string::npos;
}

void h5_fail(const std::string& path, const std::string& what) { h5_fail(path, what, h5_error_detail()); }

void h5_fail(const std::string& path, const std::string& what, const std::string& detail) {
  // A full disk, a quota or an I/O error is the machine's, not a defect: one line, exit status 2.
  if (const auto system = h5_system_error(detail)) input_error("{}: {}: {}", path, what, *system);
  throw std::runtime_error(path + ": " + what + (detail.empty() ? "" : " (HDF5: " + detail + ")"));
}

}  // namespace hs::io
