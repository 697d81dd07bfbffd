// The `quality:` section of clickflow.yaml (thresholds of `clickflow quality run`).
#include <gtest/gtest.h>

#include "common/config.h"
#include "common/error.h"
#include "config_error.h"

namespace clickflow {
namespace {

std::string ErrorOf(const std::string& yaml) { return testing::ConfigErrorOf(yaml); }

TEST(QualityConfigTest, DefaultsJudgeIngestionStrictlyAndEventAgeGenerously) {
  Config c = ParseConfig("", "test.yaml", "/base");
  EXPECT_EQ(c.quality.max_ingestion_age_minutes, 60);
  EXPECT_EQ(c.quality.max_event_age_minutes, 1440);
  EXPECT_EQ(c.quality.max_build_lag_minutes, 60);
  EXPECT_EQ(c.quality.max_future_skew_minutes, 5);
  EXPECT_DOUBLE_EQ(c.quality.max_null_share, 0.0);
  EXPECT_DOUBLE_EQ(c.quality.max_missing_dimension_share, 0.05);
  EXPECT_DOUBLE_EQ(c.quality.max_staging_duplicate_share, 0.0);
}

TEST(QualityConfigTest, SharesAreFractions) {
  Config c = ParseConfig("quality: {max_missing_dimension_share: 0.125, max_null_share: 1}\n", "test.yaml", "/base");
  EXPECT_DOUBLE_EQ(c.quality.max_missing_dimension_share, 0.125);
  EXPECT_DOUBLE_EQ(c.quality.max_null_share, 1.0);
}

TEST(QualityConfigTest, ShareOutsideZeroToOneNamesTheKey) {
  EXPECT_EQ(ErrorOf("quality: {max_null_share: 1.5}\n"),
            "test.yaml: quality.max_null_share: value 1.5 is out of range [0, 1]");
  EXPECT_EQ(ErrorOf("quality: {max_null_share: -0.1}\n"),
            "test.yaml: quality.max_null_share: value -0.1 is out of range [0, 1]");
}

TEST(QualityConfigTest, NonNumericShareNamesTheKey) {
  EXPECT_EQ(ErrorOf("quality: {max_staging_duplicate_share: 5%}\n"),
            "test.yaml: quality.max_staging_duplicate_share: expected a number, got '5%'");
  EXPECT_EQ(ErrorOf("quality: {max_staging_duplicate_share: nan}\n"),
            "test.yaml: quality.max_staging_duplicate_share: expected a number, got 'nan'");
}

TEST(QualityConfigTest, EnvironmentOverridesAThreshold) {
  ::setenv("CLICKFLOW_QUALITY_MAX_INGESTION_AGE_MINUTES", "15", 1);
  ::setenv("CLICKFLOW_QUALITY_MAX_NULL_SHARE", "0.01", 1);
  Config c = LoadConfig("");
  ::unsetenv("CLICKFLOW_QUALITY_MAX_INGESTION_AGE_MINUTES");
  ::unsetenv("CLICKFLOW_QUALITY_MAX_NULL_SHARE");
  EXPECT_EQ(c.quality.max_ingestion_age_minutes, 15);
  EXPECT_DOUBLE_EQ(c.quality.max_null_share, 0.01);
}

TEST(QualityConfigTest, SurvivesYamlRoundTrip) {
  Config c = ParseConfig("quality: {max_missing_dimension_share: 0.1, max_event_age_minutes: 99}\n", "a.yaml", "/b");
  Config back = ParseConfig(ToYaml(c), "b.yaml", "/b");
  EXPECT_DOUBLE_EQ(back.quality.max_missing_dimension_share, 0.1);
  EXPECT_EQ(back.quality.max_event_age_minutes, 99);
  EXPECT_TRUE(back.quality.reports_dir.empty());
}

TEST(QualityConfigTest, ReportsGoUnderTheDataDirUnlessConfigured) {
  Config c = ParseConfig("data_dir: /d\n", "test.yaml", "/base");
  EXPECT_EQ(c.ReportsDir(), "/d/reports");
  c = ParseConfig("quality: {reports_dir: out}\n", "test.yaml", "/base");
  EXPECT_EQ(c.ReportsDir(), "/base/out");
}

}  // namespace
}  // namespace clickflow
