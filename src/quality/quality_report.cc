#include "quality/quality_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

namespace clickflow {
namespace {

std::string ResultsTable(const std::string& db) { return db + ".quality_results"; }

// A table cell: pipes would end the cell and newlines the row.
std::string Cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string StatusCell(QualityStatus status) {
  return status == QualityStatus::kFail ? "**fail**" : std::string(StatusName(status));
}

// Expected checks first, in their order; rows keep their order within a check.
std::vector<QualityResult> Ordered(std::vector<QualityResult> results, const std::vector<std::string>& expected) {
  auto rank = [&](const std::string& check) {
    auto it = std::find(expected.begin(), expected.end(), check);
    return static_cast<size_t>(it - expected.begin());
  };
  std::stable_sort(results.begin(), results.end(),
                   [&](const QualityResult& a, const QualityResult& b) { return rank(a.check) < rank(b.check); });
  return results;
}

}  // namespace

std::string NewQualityRunId(std::chrono::system_clock::time_point now) {
  std::random_device random;
  const std::string stamp = FormatUtc(now);  // 2026-11-29 10:40:00
  std::string compact;
  for (char c : stamp) {
    if (c == ' ')
      compact += 'T';
    else if (c != '-' && c != ':')
      compact += c;
  }
  return fmt::format("{}Z-{:06x}", compact, random() & 0xFFFFFF);
}

std::string FormatUtc(std::chrono::system_clock::time_point time) {
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
  return text;
}

void RecordQualityResults(ClickHouseClient& client, const Config& config, const std::string& run_id,
                          const std::string& checked_at, const std::vector<QualityResult>& results) {
  if (results.empty()) return;
  std::string rows;
  for (const QualityResult& r : results) {
    // JSON has no NaN or infinity, and a check never means them: record them as -1.
    auto finite = [](double v) { return std::isfinite(v) ? v : -1.0; };
    nlohmann::json row = {{"run_id", run_id},
                          {"check", r.check},
                          {"table", r.table},
                          {"status", std::string(StatusName(r.status))},
                          {"observed", finite(r.observed)},
                          {"threshold", finite(r.threshold)},
                          {"details", r.details},
                          {"checked_at", checked_at}};
    rows += row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  client.Insert(ResultsTable(config.clickhouse.database) +
                    " (run_id, `check`, `table`, status, observed, threshold, details, checked_at)",
                "JSONEachRow", rows);
}

std::vector<QualityResult> LoadQualityResults(ClickHouseClient& client, const Config& config,
                                              const std::string& run_id) {
  const std::string table = ResultsTable(config.clickhouse.database);
  // A check's rows are recorded together under one checked_at; a task retried under the same
  // run id records them again, and only its latest attempt counts.
  const std::string which = run_id.empty()
                                ? fmt::format(
                                      "(`check`, run_id, checked_at) IN (SELECT `check`, argMax(run_id, checked_at), "
                                      "max(checked_at) FROM {} WHERE checked_at >= now() - 3600 GROUP BY `check`)",
                                      table)
                                : fmt::format(
                                      "run_id = {0} AND (`check`, checked_at) IN (SELECT `check`, max(checked_at) "
                                      "FROM {1} WHERE run_id = {0} GROUP BY `check`)",
                                      Quote(run_id), table);
  const std::string body =
      client.Query(fmt::format("SELECT `check`, `table`, status, observed, threshold, details FROM {} "
                               "WHERE {} ORDER BY `check`, checked_at, `table`, details FORMAT JSONEachRow",
                               table, which));
  std::vector<QualityResult> results;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const nlohmann::json row = nlohmann::json::parse(line);
    results.push_back({row.at("check").get<std::string>(), row.at("table").get<std::string>(),
                       ParseStatus(row.at("status").get<std::string>()), row.at("observed").get<double>(),
                       row.at("threshold").get<double>(), row.at("details").get<std::string>()});
  }
  return results;
}

std::vector<CheckSummary> SummariseChecks(const std::vector<QualityResult>& results,
                                          const std::vector<std::string>& expected) {
  std::vector<CheckSummary> summaries;
  for (const std::string& name : expected) summaries.push_back({name, QualityStatus::kPass, 0, 0, 0, true});
  for (const QualityResult& r : results) {
    auto it =
        std::find_if(summaries.begin(), summaries.end(), [&](const CheckSummary& s) { return s.check == r.check; });
    if (it == summaries.end()) {
      summaries.push_back({r.check, QualityStatus::kPass, 0, 0, 0, false});
      it = summaries.end() - 1;
    }
    it->missing = false;
    it->results += 1;
    it->warned += r.status == QualityStatus::kWarn;
    it->failed += r.status == QualityStatus::kFail;
    it->status = std::max(it->status, r.status);
  }
  return summaries;
}

bool QualityRunFailed(const std::vector<CheckSummary>& summaries) {
  return std::any_of(summaries.begin(), summaries.end(),
                     [](const CheckSummary& s) { return s.missing || s.status == QualityStatus::kFail; });
}

std::string FormatQualityNumber(double value) {
  if (std::fabs(value) < 1e15 && value == std::floor(value)) return fmt::format("{:.0f}", value);
  if (std::fabs(value) >= 100) return fmt::format("{:.1f}", value);
  return fmt::format("{:.4g}", value);
}

std::string RenderResultsTable(const std::vector<QualityResult>& results) {
  std::string out =
      "| Check | Table | Status | Observed | Threshold | Details |\n"
      "|---|---|---|---:|---:|---|\n";
  for (const QualityResult& r : results) {
    out += fmt::format("| {} | {} | {} | {} | {} | {} |\n", r.check, Cell(r.table), StatusCell(r.status),
                       FormatQualityNumber(r.observed), FormatQualityNumber(r.threshold), Cell(r.details));
  }
  return out;
}

std::string RenderQualityReport(const std::string& run_id, const std::string& generated_at,
                                const std::vector<QualityResult>& results, const std::vector<std::string>& expected) {
  const std::vector<CheckSummary> summaries = SummariseChecks(results, expected);
  int failed = 0, warned = 0, missing = 0;
  for (const CheckSummary& s : summaries) {
    missing += s.missing;
    failed += !s.missing && s.status == QualityStatus::kFail;
    warned += s.status == QualityStatus::kWarn;
  }
  std::string verdict = QualityRunFailed(summaries) ? "**FAIL**" : warned ? "PASS with warnings" : "PASS";
  std::string out = "# Data quality report\n\n";
  out += fmt::format("- Run: `{}`\n- Generated: {} UTC\n", run_id, generated_at);
  out += fmt::format("- Result: {} ({} checks: {} failed, {} warned, {} not run)\n\n", verdict, summaries.size(),
                     failed, warned, missing);
  out += "## Checks\n\n| Check | Status | Results | Failed | Warned |\n|---|---|---:|---:|---:|\n";
  for (const CheckSummary& s : summaries) {
    if (s.missing) {
      out += fmt::format("| {} | **not run** (no results recorded) | 0 | - | - |\n", s.check);
    } else {
      out += fmt::format("| {} | {} | {} | {} | {} |\n", s.check, StatusCell(s.status), s.results, s.failed, s.warned);
    }
  }
  out += "\n## Results\n\n";
  out += results.empty() ? "No results recorded.\n" : RenderResultsTable(Ordered(results, expected));
  return out;
}

std::filesystem::path DefaultReportPath(const Config& config, const std::string& run_id) {
  std::string safe;
  for (char c : run_id) {
    safe += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ? c : '_';
  }
  return config.ReportsDir() / ("quality-" + safe + ".md");
}

}  // namespace clickflow
