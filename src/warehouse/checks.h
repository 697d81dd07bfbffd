#pragma once
// Queries that check the warehouse against itself and against staging, shared by
// `clickflow dwh verify` (VerifyWarehouse) and the data-quality checks (src/quality/): both
// judge the same facts, so they read them the same way and cannot disagree on what they saw.
#include <cstdint>
#include <string>
#include <vector>

#include "warehouse/dwh_sql.h"

namespace clickflow {
class ClickHouseClient;
}

namespace clickflow::dwh_checks {

// Rows of a table and distinct values of its key column.
struct KeyCounts {
  uint64_t rows = 0;
  uint64_t distinct = 0;
  int64_t Duplicates() const { return static_cast<int64_t>(rows) - static_cast<int64_t>(distinct); }
};
KeyCounts CountKeys(ClickHouseClient& client, const std::string& db, const std::string& table,
                    const std::string& column = "event_id");

// What an aggregate table is compared with fact_events on: its events (countMerge(total_events)
// against count()) or its users (uniqMerge(unique_users) against uniq(user_domain_id)).
enum class AggregateMeasure { kEvents, kUsers };

// One event day where an aggregate and fact_events disagree.
struct DayMismatch {
  dwh::Day day = 0;
  uint64_t in_aggregate = 0;
  uint64_t in_facts = 0;
};

// Every day (ascending) on which `aggregate` and fact_events differ in `measure`; a day present
// on one side only counts 0 on the other. UNION ALL rather than a FULL JOIN: no join
// strictness that differs between 18.16 and current releases.
std::vector<DayMismatch> AggregateDaysOffFacts(ClickHouseClient& client, const std::string& db,
                                               const std::string& aggregate, AggregateMeasure measure);

// countMerge(total_events) of `aggregate` and count() of fact_events, over all days.
struct EventTotals {
  uint64_t in_aggregate = 0;
  uint64_t in_facts = 0;
};
EventTotals AggregateEventTotals(ClickHouseClient& client, const std::string& db, const std::string& aggregate);

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

}  // namespace clickflow::dwh_checks
