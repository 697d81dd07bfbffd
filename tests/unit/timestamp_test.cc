#include "ingest/timestamp.h"

#include <gtest/gtest.h>

namespace clickflow {
namespace {

TEST(TimestampTest, ParsesTheSampleFormatWithMicroseconds) {
  auto ts = ParseTimestamp("2022-11-28 20:51:05.627882");
  ASSERT_TRUE(ts);
  EXPECT_EQ(ts->seconds, 1669668665u);
  EXPECT_EQ(ts->micros, 627882u);
}

TEST(TimestampTest, ParsesIso8601WithTAndZoneDesignators) {
  EXPECT_EQ(ParseTimestamp("2022-11-28T20:51:05Z")->seconds, 1669668665u);
  EXPECT_EQ(ParseTimestamp("2022-11-28T22:51:05+02:00")->seconds, 1669668665u);
  EXPECT_EQ(ParseTimestamp("2022-11-28T19:51:05-0100")->seconds, 1669668665u);
  EXPECT_EQ(ParseTimestamp("2022-11-28T20:51:05.5Z")->micros, 500000u);
  EXPECT_EQ(ParseTimestamp("2022-11-28T20:51:05.123456789")->micros, 123456u);
}

TEST(TimestampTest, RejectsMalformedAndOutOfRange) {
  for (const char* bad :
       {"", "yesterday", "2022-11-28", "2022-13-01 00:00:00", "2022-02-30 00:00:00", "2023-02-29 00:00:00",
        "2022-11-28 24:00:00", "2022-11-28 20:51:05.", "2022-11-28 20:51:05 extra", "1969-12-31 23:59:59",
        "2200-01-01 00:00:00", "2022-11-28 20:51:05+25:00"}) {
    EXPECT_FALSE(ParseTimestamp(bad)) << bad;
  }
  EXPECT_TRUE(ParseTimestamp("2024-02-29 00:00:00"));
}

TEST(TimestampTest, FormatIsTheInverseOfParse) {
  for (const char* text : {"1970-01-01 00:00:00.000000", "2022-11-28 20:51:05.627882", "2024-02-29 23:59:59.999999",
                           "2105-12-31 00:00:00.000001"}) {
    auto ts = ParseTimestamp(text);
    ASSERT_TRUE(ts) << text;
    EXPECT_EQ(FormatTimestamp(*ts), text);
  }
}

}  // namespace
}  // namespace clickflow
