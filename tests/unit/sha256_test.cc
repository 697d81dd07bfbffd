// common/sha256.h against the FIPS 180-4 test vectors, whole and fed in pieces.
#include "common/sha256.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.h"

namespace clickflow {
namespace {

constexpr const char* kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* kAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr const char* kTwoBlocks = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
constexpr const char* kTwoBlocksText = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
constexpr const char* kMillionA = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

TEST(Sha256Test, MatchesKnownDigests) {
  EXPECT_EQ(Sha256Hex(""), kEmpty);
  EXPECT_EQ(Sha256Hex("abc"), kAbc);
  EXPECT_EQ(Sha256Hex(kTwoBlocksText), kTwoBlocks);
  EXPECT_EQ(Sha256Hex(std::string(1000, 'a')), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')), kMillionA);
}

TEST(Sha256Test, IncrementalEqualsWhole) {
  Sha256 nothing;
  EXPECT_EQ(nothing.HexDigest(), kEmpty);
  Sha256 pieces;
  const std::string text = kTwoBlocksText;
  for (size_t i = 0; i < text.size(); i += 7) pieces.Update(std::string_view(text).substr(i, 7));
  EXPECT_EQ(pieces.HexDigest(), kTwoBlocks);
  Sha256 million;
  const std::string chunk(999, 'a');
  for (int i = 0; i < 1000; ++i) million.Update(chunk);
  million.Update(std::string(1000, 'a'));
  EXPECT_EQ(million.HexDigest(), kMillionA);
}

TEST(Sha256Test, FileIsReadInChunks) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "clickflow_sha256_test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "abc", std::ios::binary) << "abc";
  // Over one read buffer (1 MiB), so the chunks have to join up.
  std::ofstream(dir / "million", std::ios::binary) << std::string(1000000, 'a') << std::string(1 << 20, 'b');
  EXPECT_EQ(Sha256File(dir / "abc"), kAbc);
  EXPECT_EQ(Sha256File(dir / "million"), Sha256Hex(std::string(1000000, 'a') + std::string(1 << 20, 'b')));
  EXPECT_THROW(Sha256File(dir / "missing"), Error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace clickflow
