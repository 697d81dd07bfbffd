#include <gtest/gtest.h>

#include "clickhouse/rows.h"
#include "common/error.h"

namespace clickflow {
namespace {

TEST(ClickHouseRows, SplitsRowsAndFields) {
  Rows rows = ParseTabSeparated("20261101\t37\tchrome\n20261102\t-5\t\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].UInt(0), 20261101u);
  EXPECT_EQ(rows[0].Int(1), 37);
  EXPECT_EQ(rows[0].Str(2), "chrome");
  EXPECT_EQ(rows[1].Int(1), -5);
  EXPECT_EQ(rows[1].size(), 3u);
  EXPECT_EQ(rows[1].Str(2), "");
}

TEST(ClickHouseRows, UnescapesFields) {
  Rows rows = ParseTabSeparated("a\\tb\\nc\\\\d\\'e\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].Str(0), "a\tb\nc\\d'e");
}

TEST(ClickHouseRows, NullIsNotTheTextBackslashN) {
  Rows rows = ParseTabSeparated("\\N\t\\\\N\tN\n");
  ASSERT_EQ(rows[0].size(), 3u);
  EXPECT_TRUE(rows[0].IsNull(0));
  EXPECT_EQ(rows[0].Str(0), "");
  EXPECT_FALSE(rows[0].IsNull(1));
  EXPECT_EQ(rows[0].Str(1), "\\N");
  EXPECT_FALSE(rows[0].IsNull(2));
  EXPECT_EQ(rows[0].Str(2), "N");
}

TEST(ClickHouseRows, LastLineWithoutNewlineAndEmptyLines) {
  EXPECT_EQ(ParseTabSeparated("1\n\n2").size(), 2u);
  EXPECT_EQ(ParseTabSeparated("\n", true).size(), 1u);
  EXPECT_TRUE(ParseTabSeparated("").empty());
}

TEST(ClickHouseRows, NumbersAreCheckedAndNamed) {
  Rows rows = ParseTabSeparated("12x\t1.5\t\\N\n");
  EXPECT_THROW(rows[0].Int(0), Error);
  EXPECT_DOUBLE_EQ(rows[0].Double(1), 1.5);
  EXPECT_THROW(rows[0].Int(2), Error);
  EXPECT_TRUE(rows[0].IsNull(2));
  EXPECT_FALSE(rows[0].IsNull(1));
  try {
    rows[0].Int(0);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("column 1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("12x"), std::string::npos) << e.what();
  }
  EXPECT_THROW(rows[0].Str(3), Error);
}

}  // namespace
}  // namespace clickflow
