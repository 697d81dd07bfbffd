// The offset ranges the Airflow DAG passes from its load tasks to verify_data_load: text that
// reads back as what was written, malformed tokens refused, and what a produce step appended.
#include <gtest/gtest.h>

#include "common/error.h"
#include "ingest/offset_ranges.h"

namespace clickflow {
namespace {

TEST(OffsetRangesTest, ParsingWhatWasFormattedGivesTheSameRanges) {
  const std::vector<OffsetRange> ranges{
      {"browser_events", 0, 0, 120}, {"browser_events", 11, 7, 7}, {"geo-events.v2", 3, 9'000'000'000, 9'000'000'123}};
  const std::string text = FormatOffsetRanges(ranges);
  EXPECT_EQ(ParseOffsetRanges(text), ranges) << text;
  EXPECT_EQ(ParseOffsetRanges("  \n" + text + " \t"), ranges);
  EXPECT_TRUE(ParseOffsetRanges("").empty());
}

TEST(OffsetRangesTest, RefusesWhatIsNotARange) {
  for (const char* bad : {"browser_events", "browser_events/0", "browser_events/0=5", "/0=1-2", "t/x=1-2", "t/0=5-4",
                          "t/-1=1-2", "t/0=1-2x", "t/0=-1-2", "None"}) {
    EXPECT_THROW(ParseOffsetRanges(std::string("t/0=1-2 ") + bad), Error) << bad;
  }
}

TEST(OffsetRangesTest, SinceStartsWhereTheEarlierReadingEnded) {
  const std::vector<OffsetRange> before{{"t", 0, 0, 10}, {"t", 1, 5, 5}};
  const std::vector<OffsetRange> now{{"t", 0, 0, 14}, {"t", 1, 5, 5}, {"t", 2, 0, 3}};
  const std::vector<OffsetRange> want{{"t", 0, 10, 14}, {"t", 1, 5, 5}, {"t", 2, 0, 3}};
  EXPECT_EQ(RangesSince(before, now), want);
  EXPECT_THROW(RangesSince({{"t", 0, 0, 20}}, now), Error);  // the log cannot shrink
}

}  // namespace
}  // namespace clickflow
