#pragma once
// SHA-256 (OpenSSL's EVP digest) fed in pieces, for the identities a results file records: the
// weights (model_sha256), the config (config_sha256) and the tokenized inputs (inputs_sha256).
// Feeding pieces lets callers hash what they already hold without first copying it into one buffer.
#include <cstddef>
#include <memory>
#include <string>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace hs {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t n);
  void update(const std::string& bytes) { update(bytes.data(), bytes.size()); }
  // Finishes the digest: lowercase hex, 64 characters. The object takes no more input afterwards.
  std::string hex();

 private:
  struct Free {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, Free> ctx_;
  bool done_ = false;
};

// The digest of one buffer, as hex.
std::string sha256_hex(const std::string& bytes);

}  // namespace hs
