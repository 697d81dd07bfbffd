#pragma once
// Recording quality results in quality_results and the Markdown report over them.
//
// A run is identified by a run id shared by every row it writes. `clickflow quality run` makes
// one (or takes --run-id); the data_quality_checks DAG passes its own run id to each of its
// five check tasks, each a separate process, and generate_quality_report then reads that
// run's rows back from ClickHouse. So the report never depends on in-process state, and a
// check task that failed still shows in it (with its rows, or as missing).
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "clickhouse/client.h"
#include "common/config.h"
#include "quality/quality_checks.h"

namespace clickflow {

// "20261129T104000Z-3fa2c1": sortable by time, unique by its random suffix.
std::string NewQualityRunId(std::chrono::system_clock::time_point now);

// "2026-11-29 10:40:00", UTC, the form ClickHouse reads into DateTime('UTC').
std::string FormatUtc(std::chrono::system_clock::time_point time);

// Appends `results` to quality_results under `run_id` with `checked_at`.
void RecordQualityResults(ClickHouseClient& client, const Config& config, const std::string& run_id,
                          const std::string& checked_at, const std::vector<QualityResult>& results);

// The rows recorded under `run_id`, of each check's latest attempt (Airflow retries a task
// under the same run id); with an empty run_id, each check's latest run within the last hour
// (a report run on its own, after checks run without a shared id).
std::vector<QualityResult> LoadQualityResults(ClickHouseClient& client, const Config& config,
                                              const std::string& run_id);

// One line per check of a run: the worst status of its results.
struct CheckSummary {
  std::string check;
  QualityStatus status = QualityStatus::kPass;
  int results = 0;
  int warned = 0;
  int failed = 0;
  bool missing = false;  // expected but no result recorded: counts as failed
};

// A summary per expected check, in that order, then any unexpected checks found in results.
std::vector<CheckSummary> SummariseChecks(const std::vector<QualityResult>& results,
                                          const std::vector<std::string>& expected);

// True when a check failed or an expected one left no result.
bool QualityRunFailed(const std::vector<CheckSummary>& summaries);

// The results as a Markdown table (also what a single check task prints).
std::string RenderResultsTable(const std::vector<QualityResult>& results);

// The whole report: run, verdict, one line per check, then every result.
std::string RenderQualityReport(const std::string& run_id, const std::string& generated_at,
                                const std::vector<QualityResult>& results, const std::vector<std::string>& expected);

// <reports dir>/quality-<run id>.md, the run id reduced to characters safe in a file name
// (Airflow's ids carry ':' and '+').
std::filesystem::path DefaultReportPath(const Config& config, const std::string& run_id);

// Observed and threshold values as a person reads them: 3, 0.005, 12.35.
std::string FormatQualityNumber(double value);

}  // namespace clickflow
