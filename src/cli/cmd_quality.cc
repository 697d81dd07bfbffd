// `clickflow quality run [--check NAME] [--run-id ID] [--report FILE]`: the data-quality
// checks (src/quality/quality_checks.h), their rows in quality_results and a Markdown report.
//
//   quality run                          every check, then the report, in one process
//   quality run --check check_nulls      one check (a DAG task); records its rows, prints them
//   quality run --check generate_quality_report
//                                        the report over the rows recorded under --run-id,
//                                        or each check's latest run within the last hour
//
// Exit codes: 0 when nothing failed (warnings do not fail), 2 when a check failed or, for a
// report, an expected check left no result, 1 when the checks could not run at all
// (ClickHouse unreachable, bad config).
#include <exception>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "clickhouse/client.h"
#include "common/log.h"
#include "quality/quality_checks.h"
#include "quality/quality_report.h"

namespace clickflow::cli {
namespace {

constexpr const char* kReportCheck = "generate_quality_report";
constexpr int kChecksFailedExitCode = 2;

struct QualityOptions {
  std::string check;   // empty = all
  std::string run_id;  // empty = a new one (or, for the report alone, the last hour)
  std::string report;  // empty = DefaultReportPath
};

// Runs one check and records its rows at once, so a later check that throws loses nothing.
// A check whose queries fail is recorded as failed with the reason, so the report says why
// instead of only "not run"; if even that cannot be written, the original error stands.
std::vector<QualityResult> RunAndRecord(ClickHouseClient& client, const Config& config, const std::string& name,
                                        const std::string& run_id) {
  std::vector<QualityResult> results;
  try {
    results = RunQualityCheck(client, config, name);
  } catch (const Error& e) {
    spdlog::error("{}: could not run: {}", name, e.what());
    QualityResult failed{name, "", QualityStatus::kFail, -1, 0, std::string("check could not run: ") + e.what()};
    const std::exception_ptr original = std::current_exception();
    try {
      RecordQualityResults(client, config, run_id, FormatUtc(std::chrono::system_clock::now()), {failed});
    } catch (const Error&) {
      std::rethrow_exception(original);
    }
    return {failed};
  }
  RecordQualityResults(client, config, run_id, FormatUtc(std::chrono::system_clock::now()), results);
  const auto summary = SummariseChecks(results, {name}).front();
  spdlog::info("{}: {} ({} results, {} failed, {} warned)", name, StatusName(summary.status), summary.results,
               summary.failed, summary.warned);
  return results;
}

void WriteReport(const Config& config, const QualityOptions& options, const std::string& run_id,
                 const std::string& report) {
  const std::filesystem::path path =
      options.report.empty() ? DefaultReportPath(config, run_id) : std::filesystem::path(options.report);
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path);
  out << report;
  out.close();
  if (!out) throw Error("cannot write the quality report to " + path.string());
  std::cout << report;
  spdlog::info("quality report written to {}", path.string());
}

[[noreturn]] void FailRun(const std::vector<CheckSummary>& summaries) {
  std::string names;
  for (const CheckSummary& s : summaries) {
    if (s.missing || s.status == QualityStatus::kFail) {
      names += (names.empty() ? "" : ", ") + s.check + (s.missing ? " (not run)" : "");
    }
  }
  spdlog::error("quality checks failed: {}", names);
  throw CLI::RuntimeError(kChecksFailedExitCode);
}

void Run(const Config& config, const QualityOptions& options) {
  ClickHouseClient client(config.clickhouse);
  const auto now = std::chrono::system_clock::now();
  const std::vector<std::string>& names = QualityCheckNames();

  if (options.check == kReportCheck) {
    auto results = LoadQualityResults(client, config, options.run_id);
    const std::string label = options.run_id.empty() ? "latest run of each check in the last hour" : options.run_id;
    const std::string file_id = options.run_id.empty() ? NewQualityRunId(now) : options.run_id;
    WriteReport(config, options, file_id, RenderQualityReport(label, FormatUtc(now), results, names));
    auto summaries = SummariseChecks(results, names);
    if (QualityRunFailed(summaries)) FailRun(summaries);
    return;
  }

  const std::string run_id = options.run_id.empty() ? NewQualityRunId(now) : options.run_id;
  if (!options.check.empty()) {
    auto results = RunAndRecord(client, config, options.check, run_id);
    std::cout << RenderResultsTable(results);
    auto summaries = SummariseChecks(results, {options.check});
    if (QualityRunFailed(summaries)) FailRun(summaries);
    return;
  }

  spdlog::info("quality run {}", run_id);
  std::vector<QualityResult> all;
  for (const std::string& name : names) {
    for (QualityResult& r : RunAndRecord(client, config, name, run_id)) all.push_back(std::move(r));
  }
  WriteReport(config, options, run_id, RenderQualityReport(run_id, FormatUtc(now), all, names));
  auto summaries = SummariseChecks(all, names);
  if (QualityRunFailed(summaries)) FailRun(summaries);
}

}  // namespace

void RegisterQuality(CLI::App& app, GlobalOptions& global) {
  auto* quality = app.add_subcommand("quality", "data-quality checks over staging and the warehouse");
  quality->require_subcommand(1);
  auto* run = quality->add_subcommand("run", "run the checks, record them in quality_results, report");
  auto options = std::make_shared<QualityOptions>();
  std::vector<std::string> choices = QualityCheckNames();
  choices.push_back(kReportCheck);
  run->add_option("--check", options->check, "run only this check, or only the report")->check(CLI::IsMember(choices));
  run->add_option("--run-id", options->run_id,
                  "id shared by the rows of one run (the DAG passes its run id to every task)");
  run->add_option("--report", options->report, "Markdown report file (default <data_dir>/reports/quality-<run id>.md)");
  run->callback([&global, options] {
    if (!options->report.empty() && !options->check.empty() && options->check != kReportCheck) {
      throw CLI::ValidationError("--report",
                                 "a single check writes no report; use it with a full "
                                 "run or --check generate_quality_report");
    }
    Run(global.LoadConfig(), *options);
  });
}

}  // namespace clickflow::cli
