#include "quality/quality_checks.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>

#include "quality/quality_freshness.h"
#include "quality/quality_internal.h"
#include "warehouse/checks.h"

namespace clickflow {
namespace {

using quality_internal::Examples;

double Share(double part, double whole) { return whole > 0 ? part / whole : 0; }

// ---- check_nulls ----------------------------------------------------------------------------

struct Critical {
  std::string name;
  std::string empty;  // SQL condition: the field is empty
};

Critical StringField(const std::string& name) { return {name, name + " = ''"}; }
Critical TimeField(const std::string& name) { return {name, "toUInt32(" + name + ") = 0"}; }

QualityResult EmptyFields(ClickHouseClient& client, const Config& config, const std::string& table,
                          const std::vector<Critical>& fields) {
  std::string any, each, names;
  for (const Critical& f : fields) {
    any += (any.empty() ? "" : " OR ") + f.empty;
    each += ", countIf(" + f.empty + ")";
    names += (names.empty() ? "" : ", ") + f.name;
  }
  auto row = QueryFirstRow(
      client, fmt::format("SELECT count(), countIf({}){} FROM {}.{}", any, each, config.clickhouse.database, table));
  const double total = row.Double(0), bad = row.Double(1);
  QualityResult r{"check_nulls", table, QualityStatus::kPass, Share(bad, total), config.quality.max_null_share, ""};
  r.status = Judge(r.observed, r.threshold);
  if (bad == 0) {
    r.details = fmt::format("{:.0f} rows, none with an empty {}", total, names);
  } else {
    std::string which;
    for (size_t i = 0; i < fields.size(); ++i) {
      if (row.Double(2 + i) > 0) {
        which += fmt::format("{}{} {}", which.empty() ? "" : ", ", fields[i].name, row.Str(2 + i));
      }
    }
    r.details = fmt::format("{:.0f} of {:.0f} rows have an empty critical field ({})", bad, total, which);
  }
  return r;
}

// A side of the fact join that did not match leaves its columns empty (fact_events has no
// NULLs); each side is judged by the column dashboards group by.
std::vector<QualityResult> MissingDimensions(ClickHouseClient& client, const Config& config) {
  struct Side {
    const char* name;
    const char* column;
  };
  const Side sides[] = {{"location", "page_url_path"}, {"device", "user_domain_id"}, {"geo", "geo_country"}};
  auto row =
      QueryFirstRow(client, fmt::format("SELECT count(), countIf(page_url_path = ''), countIf(user_domain_id = ''), "
                                        "countIf(geo_country = '') FROM {}.fact_events",
                                        config.clickhouse.database));
  std::vector<QualityResult> out;
  const double total = row.Double(0);
  for (size_t i = 0; i < 3; ++i) {
    const double missing = row.Double(1 + i);
    QualityResult r{"check_nulls",
                    "fact_events",
                    QualityStatus::kPass,
                    Share(missing, total),
                    config.quality.max_missing_dimension_share,
                    ""};
    r.status = Judge(r.observed, r.threshold);
    r.details = fmt::format("missing {}: {:.0f} of {:.0f} facts have an empty {} ({:.2f}%, limit {:.2f}%)",
                            sides[i].name, missing, total, sides[i].column, r.observed * 100, r.threshold * 100);
    out.push_back(r);
  }
  return out;
}

std::vector<QualityResult> CheckNulls(ClickHouseClient& client, const Config& config) {
  const auto id = StringField, ts = TimeField;
  std::vector<QualityResult> out = {
      EmptyFields(client, config, "events_browser_raw",
                  {id("event_id"), id("event_type"), ts("event_timestamp"), id("click_id")}),
      EmptyFields(client, config, "events_device_raw", {id("click_id"), id("user_domain_id")}),
      EmptyFields(client, config, "events_geo_raw", {id("click_id"), id("geo_country")}),
      EmptyFields(client, config, "events_location_raw", {id("event_id")}),
      EmptyFields(client, config, "fact_events",
                  {id("event_id"), id("event_type"), ts("event_timestamp"), id("click_id")}),
  };
  for (QualityResult& r : MissingDimensions(client, config)) out.push_back(std::move(r));
  return out;
}

// ---- check_duplicates -----------------------------------------------------------------------

std::vector<QualityResult> CheckDuplicates(ClickHouseClient& client, const Config& config) {
  const std::string& db = config.clickhouse.database;
  std::vector<QualityResult> out;
  // Staging is at least once by nature (a file produced twice, a source retrying); the
  // warehouse keys events by event_id, so duplicates there are a warning at most.
  for (const char* table : {"events_browser_raw", "events_location_raw"}) {
    const dwh_checks::KeyCounts keys = dwh_checks::CountKeys(client, db, table);
    const double total = static_cast<double>(keys.rows), dups = static_cast<double>(keys.Duplicates());
    QualityResult r{"check_duplicates",
                    table,
                    QualityStatus::kPass,
                    Share(dups, total),
                    config.quality.max_staging_duplicate_share,
                    ""};
    r.status = Judge(r.observed, r.threshold, QualityStatus::kWarn);
    r.details =
        fmt::format("{:.0f} duplicate event_id rows ({:.0f} rows, {} distinct event_id)", dups, total, keys.distinct);
    out.push_back(r);
  }
  // fact_events promises one row per event_id, always.
  const dwh_checks::KeyCounts facts = dwh_checks::CountKeys(client, db, "fact_events");
  const double dups = static_cast<double>(facts.Duplicates());
  QualityResult r{"check_duplicates", "fact_events", Judge(dups, 0), dups, 0, ""};
  r.details =
      fmt::format("{:.0f} duplicate event_id rows ({} rows, {} distinct event_id)", dups, facts.rows, facts.distinct);
  if (dups > 0) {
    r.details +=
        ", e.g. " +
        Examples(client, fmt::format("SELECT event_id, count() AS n FROM {}.fact_events GROUP BY event_id HAVING n > 1 "
                                     "ORDER BY n DESC, event_id LIMIT 5",
                                     db));
  }
  out.push_back(r);
  return out;
}

// ---- check_referential_integrity ------------------------------------------------------------

// Facts whose `column` is not in `dim`. Dimensions are rebuilt after the facts, so facts built
// after the dimension's last build are not judged (a check running between the two build
// tasks would fail for nothing); a dimension lagging far behind is a warning of its own.
QualityResult Orphans(ClickHouseClient& client, const Config& config, const std::string& dim,
                      const std::string& column) {
  const std::string& db = config.clickhouse.database;
  const std::string judged = fmt::format("_built_at <= (SELECT max(_built_at) FROM {}.{})", db, dim);
  const std::string orphan = fmt::format("{} NOT IN (SELECT {} FROM {}.{})", column, column, db, dim);
  auto row = QueryFirstRow(client,
                           fmt::format("SELECT count(), countIf(judged AND orphan), uniqExactIf(k, judged AND orphan), "
                                       "countIf(NOT judged), toInt64(max(_built_at)) - "
                                       "(SELECT toInt64(max(_built_at)) FROM {0}.{1}), (SELECT count() FROM {0}.{1}) "
                                       "FROM (SELECT {2} AS k, _built_at, {3} AS judged, {4} AS orphan "
                                       "FROM {0}.fact_events WHERE {2} != '') AS f",
                                       db, dim, column, judged, orphan));
  const double facts = row.Double(0), orphans = row.Double(1), unjudged = row.Double(3);
  QualityResult r{"check_referential_integrity", "fact_events", QualityStatus::kPass, orphans, 0, ""};
  if (facts > 0 && row.Double(5) == 0) {
    r.status = QualityStatus::kFail;
    r.observed = facts;
    r.details = fmt::format("{} is empty while {:.0f} facts have a {}", dim, facts, column);
    return r;
  }
  r.status = Judge(orphans, 0);
  r.details = fmt::format("{:.0f} of {:.0f} facts have a {} missing from {}", orphans, facts, column, dim);
  if (orphans > 0) {
    r.details += fmt::format(
        " ({} distinct), e.g. {}", row.Str(2),
        Examples(client, fmt::format("SELECT DISTINCT {2} FROM {0}.fact_events WHERE {2} != '' AND {3} AND {4} LIMIT 3",
                                     db, dim, column, judged, orphan)));
  }
  if (unjudged > 0) {
    const double behind_minutes = row.Double(4) / 60;
    r.details += fmt::format("; {:.0f} facts built {:.1f} min after the last {} build not judged yet", unjudged,
                             behind_minutes, dim);
    if (r.status == QualityStatus::kPass &&
        Judge(behind_minutes, config.quality.max_build_lag_minutes) == QualityStatus::kFail) {
      r.status = QualityStatus::kWarn;
      r.details += fmt::format(" ({} lags the facts by more than {} min)", dim, config.quality.max_build_lag_minutes);
    }
  }
  return r;
}

std::vector<QualityResult> CheckReferentialIntegrity(ClickHouseClient& client, const Config& config) {
  return {Orphans(client, config, "dim_users", "user_domain_id"), Orphans(client, config, "dim_geo", "geo_country")};
}

}  // namespace

std::string_view StatusName(QualityStatus status) {
  switch (status) {
    case QualityStatus::kPass:
      return "pass";
    case QualityStatus::kWarn:
      return "warn";
    case QualityStatus::kFail:
      return "fail";
  }
  return "fail";
}

QualityStatus ParseStatus(std::string_view name) {
  if (name == "pass") return QualityStatus::kPass;
  if (name == "warn") return QualityStatus::kWarn;
  if (name == "fail") return QualityStatus::kFail;
  throw Error(fmt::format("unknown quality status '{}'", name));
}

QualityStatus Judge(double observed, double threshold, QualityStatus when_above) {
  return observed > threshold ? when_above : QualityStatus::kPass;
}

const std::vector<std::string>& QualityCheckNames() {
  static const std::vector<std::string> names = {"check_freshness", "check_nulls", "check_duplicates",
                                                 "check_referential_integrity", "check_consistency"};
  return names;
}

std::vector<QualityResult> RunQualityCheck(ClickHouseClient& client, const Config& config, const std::string& name) {
  using Check = std::function<std::vector<QualityResult>(ClickHouseClient&, const Config&)>;
  static const std::map<std::string, Check> checks = {
      {"check_freshness", quality_freshness::CheckFreshness},
      {"check_nulls", CheckNulls},
      {"check_duplicates", CheckDuplicates},
      {"check_referential_integrity", CheckReferentialIntegrity},
      {"check_consistency", quality_internal::CheckConsistency},
  };
  auto it = checks.find(name);
  if (it == checks.end()) throw Error(fmt::format("unknown quality check '{}'", name));
  return it->second(client, config);
}

}  // namespace clickflow
