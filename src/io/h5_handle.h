#pragma once
// RAII for HDF5 ids, and HDF5 errors turned into exceptions. Internal to io/: only .cpp files
// include it, so <hdf5.h> stays out of the public headers.
#include <optional>
#include <string>

#include <hdf5.h>

namespace hs::io {

// Owns one HDF5 id (file, group, dataset, dataspace, datatype, attribute or property list) and
// closes it with the matching H5?close.
class H5Handle {
 public:
  H5Handle() = default;
  explicit H5Handle(hid_t id) : id_(id) {}
  H5Handle(H5Handle&& o) noexcept : id_(o.id_) { o.id_ = H5I_INVALID_HID; }
  H5Handle& operator=(H5Handle&& o) noexcept;
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
  ~H5Handle() { reset(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Closes now; returns false when HDF5 reports a failure (e.g. the final flush of a file).
  bool reset();

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// Keeps HDF5 from printing its error stack to stderr while alive; the previous setting comes back
// afterwards. Every public io entry point that calls HDF5 holds one, and reports failures itself.
class H5Quiet {
 public:
  H5Quiet();
  ~H5Quiet();
  H5Quiet(const H5Quiet&) = delete;
  H5Quiet& operator=(const H5Quiet&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

// The most specific message on HDF5's current error stack (e.g. "unable to open file: name =
// '...', errno = 13, error message = 'Permission denied'"), or "" when it is empty.
std::string h5_error_detail();
// The operating system's message in an HDF5 error detail (a failed read or write: "No space left on
// device"), if it holds one.
std::optional<std::string> h5_system_error(const std::string& detail);
// True when an HDF5 error detail says the file lock was refused: HDF5 1.10 locks files open for
// writing, and a run in progress is the usual holder.
bool h5_lock_failure(const std::string& detail);

// Throws std::runtime_error "PATH: WHAT (HDF5: detail)" for a failure that is a bug, or InputError
// "PATH: WHAT: reason" when the detail holds the operating system's reason (a full disk, a quota, an
// I/O error: the machine's, not a defect). The callers turn user mistakes into InputError before
// HDF5 runs. The first form reads the detail off HDF5's error stack.
[[noreturn]] void h5_fail(const std::string& path, const std::string& what);
[[noreturn]] void h5_fail(const std::string& path, const std::string& what, const std::string& detail);

}  // namespace hs::io
