#include "common/sha256.h"

#include <openssl/evp.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "common/error.h"

namespace clickflow {
namespace {

EVP_MD_CTX* Context(void* p) { return static_cast<EVP_MD_CTX*>(p); }

std::string Hex(const unsigned char* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0xF];
  }
  return out;
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    throw Error("SHA-256 failed");
  }
  return Hex(digest, size);
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr || EVP_DigestInit_ex(Context(ctx_), EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(Context(ctx_));
    throw Error("cannot initialise SHA-256");
  }
}

Sha256::~Sha256() { EVP_MD_CTX_free(Context(ctx_)); }

void Sha256::Update(std::string_view data) {
  if (EVP_DigestUpdate(Context(ctx_), data.data(), data.size()) != 1) throw Error("SHA-256 failed");
}

std::string Sha256::HexDigest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(Context(ctx_), digest, &size) != 1) throw Error("SHA-256 failed");
  return Hex(digest, size);
}

std::string Sha256File(const std::filesystem::path& file) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(file.c_str(), "rb"), &std::fclose);
  if (!in) throw Error("cannot read " + file.string());
  Sha256 sha;
  std::vector<char> buffer(1 << 20);
  size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), in.get())) > 0) sha.Update({buffer.data(), n});
  if (std::ferror(in.get())) throw Error("cannot read " + file.string());
  return sha.HexDigest();
}

}  // namespace clickflow
