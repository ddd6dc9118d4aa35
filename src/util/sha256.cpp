#include "util/sha256.h"

#include <stdexcept>

#include <openssl/evp.h>

namespace hs {

void Sha256::Free::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("sha256: cannot initialise OpenSSL digest");
  }
}

Sha256::~Sha256() = default;

void Sha256::update(const void* data, size_t n) {
  if (done_) throw std::logic_error("sha256: update after hex()");
  if (n > 0 && EVP_DigestUpdate(ctx_.get(), data, n) != 1) throw std::runtime_error("sha256: OpenSSL digest update failed");
}

std::string Sha256::hex() {
  if (done_) throw std::logic_error("sha256: hex() called twice");
  done_ = true;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), digest, &len) != 1) throw std::runtime_error("sha256: OpenSSL digest final failed");
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    out += digits[digest[i] >> 4];
    out += digits[digest[i] & 0xf];
  }
  return out;
}

std::string sha256_hex(const std::string& bytes) {
  Sha256 sha;
  sha.update(bytes);
  return sha.hex();
}

}  // namespace hs
