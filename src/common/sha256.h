#pragma once
// SHA-256 as lower-case hex, from OpenSSL: of a string (migration checksums, ClickHouse's
// password_sha256_hex), of a file read in chunks, or of a stream fed piece by piece (a backup
// file hashed while it is written).
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace clickflow {

std::string Sha256Hex(std::string_view data);

// Reads `file` in 1 MiB chunks; throws Error when it cannot be read.
std::string Sha256File(const std::filesystem::path& file);

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view data);
  // The digest of everything fed so far; the object is spent afterwards.
  std::string HexDigest();

 private:
  void* ctx_;  // EVP_MD_CTX*, kept opaque so callers need no OpenSSL headers
};

}  // namespace clickflow
