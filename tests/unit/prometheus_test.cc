#include "common/prometheus.h"

#include <gtest/gtest.h>

namespace clickflow::prometheus {
namespace {

TEST(PrometheusTextTest, FamilyHeadOnceThenItsSamples) {
  Text text;
  text.Family("up", "gauge", "1 when up.")
      .Sample("up", 1, {{"component", "kafka"}})
      .Sample("up", 0, {{"component", "clickhouse"}});
  EXPECT_EQ(text.str(),
            "# HELP up 1 when up.\n# TYPE up gauge\n"
            "up{component=\"kafka\"} 1\nup{component=\"clickhouse\"} 0\n");
}

TEST(PrometheusTextTest, SingleAndSummaryParts) {
  Text text;
  text.Single("rows_total", "counter", "Rows.", uint64_t{42})
      .Single("lag", "gauge", "Lag.", int64_t{-3})
      .Family("insert_seconds", "summary", "Time.")
      .Sample("insert_seconds_sum", 1.5)
      .Sample("insert_seconds_count", uint64_t{2});
  EXPECT_EQ(text.Take(),
            "# HELP rows_total Rows.\n# TYPE rows_total counter\nrows_total 42\n"
            "# HELP lag Lag.\n# TYPE lag gauge\nlag -3\n"
            "# HELP insert_seconds Time.\n# TYPE insert_seconds summary\n"
            "insert_seconds_sum 1.5\ninsert_seconds_count 2\n");
}

TEST(PrometheusTextTest, ZeroSecondsIsWrittenAsZero) {
  Text text;
  text.Sample("s", 0.0);
  EXPECT_EQ(text.str(), "s 0\n");
}

TEST(PrometheusTextTest, LabelValuesAreEscaped) {
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  Text text;
  text.Sample("m", 1, {{"a", "x\"y"}, {"b", "z"}});
  EXPECT_EQ(text.str(), "m{a=\"x\\\"y\",b=\"z\"} 1\n");
}

}  // namespace
}  // namespace clickflow::prometheus
