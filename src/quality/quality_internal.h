#pragma once
// Shared by the quality check files (quality_checks.cc, quality_consistency.cc); not an API.
#include <cstdint>
#include <string>
#include <vector>

#include "clickhouse/client.h"
#include "common/config.h"
#include "quality/quality_checks.h"

namespace clickflow::quality_internal {

// The rows of a TabSeparated answer, split into fields (values are ids, numbers and
// timestamps, which TabSeparated leaves unescaped).
std::vector<std::vector<std::string>> Rows(ClickHouseClient& client, const std::string& sql);

// The first row; throws Error when the query returned none.
std::vector<std::string> Row(ClickHouseClient& client, const std::string& sql);

// A numeric field ("12", "0.5", "-3"); throws Error on anything else.
double Num(const std::string& field);

// The first column of up to the rows `sql` returns, comma-separated, for details texts.
std::string Examples(ClickHouseClient& client, const std::string& sql);

// How far staging has been built into fact_events: the builder's own watermark (dwh_build_state,
// component 'fact_events': the newest _ingested_at it covered, inclusive) when it recorded one,
// else the newest fact's _built_at (a row staged in that very second may have been missed, so
// exclusive). `at` is unix time, 0 when the warehouse was never built.
struct BuildWatermark {
  int64_t at = 0;
  bool inclusive = false;
  // SQL condition on a staging row: the build covered it.
  std::string Covers() const;
};
BuildWatermark FactWatermark(ClickHouseClient& client, const std::string& db);

std::vector<QualityResult> CheckConsistency(ClickHouseClient& client, const Config& config);

}  // namespace clickflow::quality_internal
