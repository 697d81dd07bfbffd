// The line count verify_data_load compares with staging: lines a producer sends, i.e. those
// with a non-space character, the last one counted without its newline too.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "ingest/load_verify.h"

namespace clickflow {
namespace {

namespace fs = std::filesystem;

fs::path WriteFile(const std::string& name, const std::string& text) {
  const fs::path path = fs::temp_directory_path() / ("clickflow_load_verify_" + std::to_string(::getpid()) + name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(LoadVerifyTest, CountsLinesWithANonSpaceCharacter) {
  const fs::path file = WriteFile("a.jsonl", "{\"a\":1}\n\n   \n\t\r\n{\"b\":2}\n x\n{\"c\":3}");
  EXPECT_EQ(CountNonBlankLines(file), 4);
  fs::remove(file);
}

TEST(LoadVerifyTest, AnEmptyOrMissingFileHasNoLines) {
  const fs::path file = WriteFile("b.jsonl", "");
  EXPECT_EQ(CountNonBlankLines(file), 0);
  fs::remove(file);
  EXPECT_EQ(CountNonBlankLines(file), 0);
}

}  // namespace
}  // namespace clickflow
