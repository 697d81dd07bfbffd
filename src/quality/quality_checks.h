#pragma once
// Data-quality checks over staging and the warehouse (`clickflow quality run`, and the
// data_quality_checks DAG, which runs each check as its own task). A check yields one result
// per thing it measured (a table, a side of the join, an aggregate), each with the observed
// value, the threshold it was judged against and a sentence saying what was found.
//
// The checks only read; recording results and the report are in quality_report.h.
#include <string>
#include <string_view>
#include <vector>

#include "clickhouse/client.h"
#include "common/config.h"

namespace clickflow {

// Ordered by severity, so the worst of several is their max.
enum class QualityStatus { kPass = 1, kWarn = 2, kFail = 3 };

// "pass", "warn", "fail": the values of quality_results.status.
std::string_view StatusName(QualityStatus status);
// The inverse; throws Error on anything else.
QualityStatus ParseStatus(std::string_view name);

struct QualityResult {
  std::string check;  // check_freshness, ...
  std::string table;  // what was measured, e.g. "fact_events" or "agg_events_hourly"
  QualityStatus status = QualityStatus::kPass;
  double observed = 0;
  double threshold = 0;
  std::string details;  // what was found, in words, with counts
};

// `observed` above `threshold` gives `when_above`, otherwise pass. Equal passes: a threshold
// is the largest acceptable value (max_null_share 0 accepts zero).
QualityStatus Judge(double observed, double threshold, QualityStatus when_above = QualityStatus::kFail);

// The five checks, in the DAG's order.
const std::vector<std::string>& QualityCheckNames();

// Runs one check by name (one of QualityCheckNames()) against the configured database.
// Throws Error for an unknown name and ClickHouseError/Unavailable when a query fails: a check
// that could not look is not a pass.
std::vector<QualityResult> RunQualityCheck(ClickHouseClient& client, const Config& config, const std::string& name);

}  // namespace clickflow
