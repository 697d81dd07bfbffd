#pragma once
// Shared by the quality check files (quality_checks.cc, quality_consistency.cc,
// quality_freshness.cc); not an API.
#include <string>
#include <vector>

#include "clickhouse/client.h"
#include "clickhouse/rows.h"
#include "common/config.h"
#include "quality/quality_checks.h"

namespace clickflow::quality_internal {

// The first column of up to the rows `sql` returns, comma-separated, for details texts.
std::string Examples(ClickHouseClient& client, const std::string& sql);

std::vector<QualityResult> CheckConsistency(ClickHouseClient& client, const Config& config);

}  // namespace clickflow::quality_internal
