#include "quality/quality_report.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "quality/quality_checks.h"

namespace clickflow {
namespace {

using std::chrono::system_clock;

const std::vector<std::string> kExpected = {"check_a", "check_b"};

QualityResult Result(const std::string& check, QualityStatus status, const std::string& details = "") {
  return {check, "fact_events", status, 1, 0, details};
}

TEST(QualityJudgeTest, PassesAtTheThresholdAndFailsAbove) {
  EXPECT_EQ(Judge(0, 0), QualityStatus::kPass);
  EXPECT_EQ(Judge(0.05, 0.05), QualityStatus::kPass);
  EXPECT_EQ(Judge(0.0501, 0.05), QualityStatus::kFail);
  EXPECT_EQ(Judge(1, 0), QualityStatus::kFail);
}

TEST(QualityJudgeTest, WarnOnlyChecksWarnAboveTheThreshold) {
  EXPECT_EQ(Judge(2000, 1440, QualityStatus::kWarn), QualityStatus::kWarn);
  EXPECT_EQ(Judge(10, 1440, QualityStatus::kWarn), QualityStatus::kPass);
}

TEST(QualityStatusTest, NamesAreTheQualityResultsEnumValues) {
  for (QualityStatus s : {QualityStatus::kPass, QualityStatus::kWarn, QualityStatus::kFail}) {
    EXPECT_EQ(ParseStatus(StatusName(s)), s);
  }
  EXPECT_EQ(StatusName(QualityStatus::kWarn), "warn");
  EXPECT_THROW(ParseStatus("ok"), Error);
}

TEST(QualityCheckNamesTest, AreTheDagTaskIdsInOrder) {
  EXPECT_EQ(QualityCheckNames(), (std::vector<std::string>{"check_freshness", "check_nulls", "check_duplicates",
                                                           "check_referential_integrity", "check_consistency"}));
}

TEST(QualitySummaryTest, EachCheckTakesTheWorstStatusOfItsResults) {
  auto s = SummariseChecks({Result("check_a", QualityStatus::kPass), Result("check_a", QualityStatus::kFail),
                            Result("check_a", QualityStatus::kWarn), Result("check_b", QualityStatus::kWarn)},
                           kExpected);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].status, QualityStatus::kFail);
  EXPECT_EQ(s[0].results, 3);
  EXPECT_EQ(s[0].failed, 1);
  EXPECT_EQ(s[0].warned, 1);
  EXPECT_EQ(s[1].status, QualityStatus::kWarn);
  EXPECT_TRUE(QualityRunFailed(s));
}

TEST(QualitySummaryTest, WarningsAloneDoNotFailTheRun) {
  auto s =
      SummariseChecks({Result("check_a", QualityStatus::kWarn), Result("check_b", QualityStatus::kPass)}, kExpected);
  EXPECT_FALSE(QualityRunFailed(s));
}

TEST(QualitySummaryTest, AnExpectedCheckWithoutResultsIsMissingAndFailsTheRun) {
  auto s = SummariseChecks({Result("check_a", QualityStatus::kPass)}, kExpected);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_FALSE(s[0].missing);
  EXPECT_TRUE(s[1].missing);
  EXPECT_TRUE(QualityRunFailed(s));
}

TEST(QualitySummaryTest, UnexpectedChecksAreListedAfterTheExpectedOnes) {
  auto s = SummariseChecks({Result("check_z", QualityStatus::kPass), Result("check_a", QualityStatus::kPass),
                            Result("check_b", QualityStatus::kPass)},
                           kExpected);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[2].check, "check_z");
  EXPECT_FALSE(QualityRunFailed(s));
}

TEST(QualityReportTest, ListsEveryCheckAndEveryResultWithTheVerdict) {
  std::string report = RenderQualityReport(
      "run-1", "2026-11-29 10:00:00",
      {Result("check_b", QualityStatus::kFail, "3 facts are orphans"), Result("check_a", QualityStatus::kPass, "fine")},
      kExpected);
  EXPECT_NE(report.find("- Run: `run-1`"), std::string::npos) << report;
  EXPECT_NE(report.find("- Generated: 2026-11-29 10:00:00 UTC"), std::string::npos);
  EXPECT_NE(report.find("**FAIL** (2 checks: 1 failed, 0 warned, 0 not run)"), std::string::npos) << report;
  EXPECT_NE(report.find("| check_a | pass | 1 | 0 | 0 |"), std::string::npos) << report;
  EXPECT_NE(report.find("| check_b | **fail** | 1 | 1 | 0 |"), std::string::npos) << report;
  EXPECT_NE(report.find("| check_b | fact_events | **fail** | 1 | 0 | 3 facts are orphans |"), std::string::npos);
  // Results follow the expected order of checks, not the order they arrived in.
  EXPECT_LT(report.find("| check_a | fact_events"), report.find("| check_b | fact_events"));
}

TEST(QualityReportTest, SaysPassWithWarningsWhenNothingFailed) {
  std::string report = RenderQualityReport(
      "r", "t", {Result("check_a", QualityStatus::kWarn), Result("check_b", QualityStatus::kPass)}, kExpected);
  EXPECT_NE(report.find("- Result: PASS with warnings"), std::string::npos) << report;
}

TEST(QualityReportTest, MarksChecksThatRecordedNothingAsNotRun) {
  std::string report = RenderQualityReport("r", "t", {Result("check_a", QualityStatus::kPass)}, kExpected);
  EXPECT_NE(report.find("| check_b | **not run** (no results recorded) |"), std::string::npos) << report;
  EXPECT_NE(report.find("**FAIL** (2 checks: 0 failed, 0 warned, 1 not run)"), std::string::npos) << report;
}

TEST(QualityReportTest, EscapesPipesAndNewlinesInDetails) {
  std::string table = RenderResultsTable({Result("check_a", QualityStatus::kPass, "a|b\nc")});
  EXPECT_NE(table.find("| a\\|b c |"), std::string::npos) << table;
}

TEST(QualityReportTest, NumbersReadAsPeopleWriteThem) {
  EXPECT_EQ(FormatQualityNumber(3), "3");
  EXPECT_EQ(FormatQualityNumber(-1), "-1");
  EXPECT_EQ(FormatQualityNumber(0.005), "0.005");
  EXPECT_EQ(FormatQualityNumber(12.3456), "12.35");
  EXPECT_EQ(FormatQualityNumber(683.8333), "683.8");
}

TEST(QualityReportTest, DefaultPathMakesAirflowRunIdsSafeFileNames) {
  Config config;
  config.data_dir = "/data";
  EXPECT_EQ(DefaultReportPath(config, "scheduled__2026-11-29T10:00:00+00:00"),
            "/data/reports/quality-scheduled__2026-11-29T10_00_00_00_00.md");
  EXPECT_EQ(DefaultReportPath(config, "../x/y"), "/data/reports/quality-.._x_y.md");
  config.quality.reports_dir = "/elsewhere";
  EXPECT_EQ(DefaultReportPath(config, "r1"), "/elsewhere/quality-r1.md");
}

TEST(QualityRunIdTest, StartsWithTheUtcTimeAndDiffersBetweenRuns) {
  const auto t = system_clock::from_time_t(1795947600);  // 2026-11-29 10:20:00 UTC
  EXPECT_EQ(FormatUtc(t), "2026-11-29 10:20:00");
  const std::string a = NewQualityRunId(t), b = NewQualityRunId(t);
  EXPECT_EQ(a.substr(0, 17), "20261129T102000Z-");
  EXPECT_EQ(a.size(), 23u);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace clickflow
