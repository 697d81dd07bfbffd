#include "warehouse/dwh_sql.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "clickhouse/client.h"

namespace clickflow::dwh {
namespace {

// Latest ingested wins. The loader stamps one _ingested_at per batch, so ties within a second
// fall to the Kafka offset: every copy of a key sits in the same partition (the message key is
// the join key), where the later offset is the later copy. Both go into one UInt64,
// _ingested_at in the high half and the offset's low 32 bits below it: argMax on a number is
// about twice as fast as on a tuple (measured on 18.16, 1M rows). The offset's low half can
// only misorder two copies stamped in the same second across a 2^32 offset boundary, and the
// choice would still be deterministic, so a rebuild picks the same copy every time.
constexpr const char* kLatest = "bitOr(bitShiftLeft(toUInt64(_ingested_at), 32), bitAnd(_offset, 4294967295))";

// SELECT key, argMax(col, latest) AS col, ... : one argMax per column (measured faster than
// one argMax over a tuple of the columns), all with the same key, so all from the same copy.
// `extra` is appended to the select list as is (", max(_ingested_at) AS seen").
std::string LatestBy(const std::string& db, const std::string& table, const std::string& key,
                     const std::vector<std::string>& columns, const std::string& where, const std::string& alias,
                     const std::string& extra = "") {
  std::string aggregates;
  for (const std::string& column : columns) {
    aggregates += fmt::format(", argMax({c}, {latest}) AS {c}", fmt::arg("c", column), fmt::arg("latest", kLatest));
  }
  return fmt::format("(SELECT {key}{aggregates}{extra} FROM {db}.{table}{where} GROUP BY {key}) AS {alias}",
                     fmt::arg("key", key), fmt::arg("aggregates", aggregates), fmt::arg("extra", extra),
                     fmt::arg("db", db), fmt::arg("table", table),
                     fmt::arg("where", where.empty() ? "" : " WHERE " + where), fmt::arg("alias", alias));
}

const std::vector<std::string> kBrowserColumns = {"event_timestamp", "event_timestamp_us", "event_type",
                                                  "click_id",        "browser_name",       "browser_user_agent",
                                                  "browser_language"};
const std::vector<std::string> kLocationColumns = {"page_url",   "page_url_path", "referer_url", "referer_medium",
                                                   "utm_medium", "utm_source",    "utm_content", "utm_campaign"};
const std::vector<std::string> kDeviceColumns = {
    "os", "os_name", "os_timezone", "device_type", "device_is_mobile", "user_custom_id", "user_domain_id"};
const std::vector<std::string> kGeoColumns = {"geo_latitude", "geo_longitude",   "geo_country",
                                              "geo_timezone", "geo_region_name", "ip_address"};

// fact_events' columns in table order (the INSERT names them, so order is explicit anyway).
constexpr const char* kFactColumns =
    "event_id, event_timestamp, event_timestamp_us, event_date, event_hour, event_type, "
    "click_id, browser_name, browser_user_agent, browser_language, page_url, page_url_path, "
    "referer_url, referer_medium, utm_medium, utm_source, utm_content, utm_campaign, os, "
    "os_name, os_timezone, device_type, device_is_mobile, user_custom_id, user_domain_id, "
    "geo_latitude, geo_longitude, geo_country, geo_timezone, geo_region_name, ip_address, "
    "_built_at";

}  // namespace

std::string DayToIso(Day day) { return fmt::format("{:04}-{:02}-{:02}", day / 10000, day / 100 % 100, day % 100); }

std::string DayList(const std::vector<Day>& days) {
  std::string out;
  for (Day d : days) out += (out.empty() ? "" : ", ") + std::to_string(d);
  return out;
}

std::string DateList(const std::vector<Day>& days) {
  std::string out;
  for (Day d : days) out += (out.empty() ? "" : ", ") + fmt::format("toDate('{}')", DayToIso(d));
  return out;
}

std::string BucketCondition(const Bucket& bucket) {
  if (bucket.count <= 1) return "";
  return fmt::format("cityHash64(event_id) % {} = {}", bucket.count, bucket.index);
}

uint32_t BucketsFor(uint64_t rows, uint64_t target_rows) {
  if (target_rows == 0 || rows <= target_rows) return 1;
  return static_cast<uint32_t>(std::min<uint64_t>(kMaxBuckets, (rows + target_rows - 1) / target_rows));
}

std::string TouchedDaysSql(const std::string& db, NewRows since) {
  if (since.since_unix <= 0) {
    return fmt::format(
        "SELECT toYYYYMMDD(event_timestamp) AS day FROM {}.events_browser_raw "
        "GROUP BY day ORDER BY day",
        db);
  }
  const std::string cond = fmt::format("_ingested_at >= toDateTime({})", since.since_unix);
  return fmt::format(
      "SELECT toYYYYMMDD(event_timestamp) AS day FROM {db}.events_browser_raw WHERE "
      "event_id IN (SELECT event_id FROM {db}.events_browser_raw WHERE {c}) OR "
      "event_id IN (SELECT event_id FROM {db}.events_location_raw WHERE {c}) OR "
      "click_id IN (SELECT click_id FROM {db}.events_device_raw WHERE {c}) OR "
      "click_id IN (SELECT click_id FROM {db}.events_geo_raw WHERE {c}) "
      "GROUP BY day ORDER BY day",
      fmt::arg("db", db), fmt::arg("c", cond));
}

std::string BrowserRowsPerDaySql(const std::string& db) {
  return fmt::format(
      "SELECT toYYYYMMDD(event_timestamp) AS day, count() FROM {}.events_browser_raw "
      "GROUP BY day ORDER BY day",
      db);
}

std::string StagingWatermarkSql(const std::string& db) {
  return fmt::format(
      "SELECT toUInt32(max(m)) FROM ("
      "SELECT max(_ingested_at) AS m FROM {db}.events_browser_raw UNION ALL "
      "SELECT max(_ingested_at) AS m FROM {db}.events_device_raw UNION ALL "
      "SELECT max(_ingested_at) AS m FROM {db}.events_geo_raw UNION ALL "
      "SELECT max(_ingested_at) AS m FROM {db}.events_location_raw) AS watermarks",
      fmt::arg("db", db));
}

// The SELECT list that turns the joined sides into fact_events' columns (kFactColumns order).
constexpr const char* kFactSelect =
    "event_id, event_timestamp, event_timestamp_us, toDate(event_timestamp) AS event_date, "
    "toStartOfHour(event_timestamp) AS event_hour, event_type, click_id, browser_name, "
    "browser_user_agent, browser_language, page_url, page_url_path, referer_url, referer_medium, "
    "utm_medium, utm_source, utm_content, utm_campaign, os, os_name, os_timezone, device_type, "
    "device_is_mobile, user_custom_id, user_domain_id, geo_latitude, geo_longitude, geo_country, "
    "geo_timezone, geo_region_name, ip_address, now() AS _built_at";

// ((browser ⋈ location) ⋈ device) ⋈ geo, one JOIN per SELECT. Every right side has one row
// per key, so ANY and ALL agree; ANY states it and never fans out. Column names are unique
// across sides (only the USING key is shared), so no side's column shadows another's.
std::string JoinedSides(const std::string& browser, const std::string& location, const std::string& device,
                        const std::string& geo) {
  return fmt::format(
      "(SELECT * FROM (SELECT * FROM {} ANY LEFT JOIN {} USING event_id) "
      "AS with_location ANY LEFT JOIN {} USING click_id) AS with_device "
      "ANY LEFT JOIN {} USING click_id",
      browser, location, device, geo);
}

// Every fact column but _built_at and what derives from event_timestamp: equal hashes mean a
// rebuild would write the same fact.
constexpr const char* kFactHash =
    "cityHash64(event_id, event_timestamp, event_timestamp_us, event_type, click_id, browser_name, "
    "browser_user_agent, browser_language, page_url, page_url_path, referer_url, referer_medium, "
    "utm_medium, utm_source, utm_content, utm_campaign, os, os_name, os_timezone, device_type, "
    "device_is_mobile, user_custom_id, user_domain_id, geo_latitude, geo_longitude, geo_country, "
    "geo_timezone, geo_region_name, ip_address)";

std::string FirstLoadAfterSql(const std::string& db, int64_t after_unix) {
  return fmt::format(
      "SELECT toUInt32(min(m)) FROM ("
      "SELECT min(_ingested_at) AS m FROM {db}.events_browser_raw WHERE {c} UNION ALL "
      "SELECT min(_ingested_at) AS m FROM {db}.events_device_raw WHERE {c} UNION ALL "
      "SELECT min(_ingested_at) AS m FROM {db}.events_geo_raw WHERE {c} UNION ALL "
      "SELECT min(_ingested_at) AS m FROM {db}.events_location_raw WHERE {c}) AS firsts WHERE m > 0",
      fmt::arg("db", db), fmt::arg("c", fmt::format("_ingested_at > toDateTime({})", after_unix)));
}

std::string FactInsertSql(const std::string& db, const std::vector<Day>& days, bool every_day) {
  return FactInsertSql(db, days, every_day, Bucket{});
}

std::string FactInsertSql(const std::string& db, const std::vector<Day>& days, bool every_day, const Bucket& bucket) {
  const std::string day_list = DayList(days);
  const std::string in_bucket = bucket.count > 1 ? " AND " + BucketCondition(bucket) : "";
  // Every event_id / click_id that has a browser row on one of the days (in the bucket): the
  // dedup of each side only needs those keys, which keeps the GROUP BY and the join's right
  // side small.
  const std::string browser_of_days =
      fmt::format("(SELECT {{key}} FROM {}.events_browser_raw WHERE toYYYYMMDD(event_timestamp) IN ({}){})", db,
                  day_list, in_bucket);
  // When the batch is every day of staging (one bucket) the restriction would select
  // everything: skip it.
  const bool unrestricted = every_day && bucket.count <= 1;
  const std::string event_ids =
      unrestricted ? "" : "event_id IN " + fmt::format(fmt::runtime(browser_of_days), fmt::arg("key", "event_id"));
  const std::string click_ids =
      unrestricted ? "" : "click_id IN " + fmt::format(fmt::runtime(browser_of_days), fmt::arg("key", "click_id"));

  // The latest copy of every event_id seen on the days, kept only if that copy is on one of
  // them: a copy that moved the event to another day removes it from its old day.
  const std::string browser =
      fmt::format("(SELECT * FROM {} WHERE toYYYYMMDD(event_timestamp) IN ({})) AS browser_days",
                  LatestBy(db, "events_browser_raw", "event_id", kBrowserColumns, event_ids, "browser"), day_list);
  const std::string location = LatestBy(db, "events_location_raw", "event_id", kLocationColumns, event_ids, "location");
  const std::string device = LatestBy(db, "events_device_raw", "click_id", kDeviceColumns, click_ids, "device");
  const std::string geo = LatestBy(db, "events_geo_raw", "click_id", kGeoColumns, click_ids, "geo");
  return fmt::format("INSERT INTO {}.fact_events_build ({}) SELECT {} FROM {}", db, kFactColumns, kFactSelect,
                     JoinedSides(browser, location, device, geo));
}

std::string TouchedCreateSql(const std::string& db, NewRows since, int64_t until_unix) {
  // Browser rows of every event touched by a new row of any topic (as in TouchedDaysSql). A
  // session's repeated device and geo lines touch all its events; the window (AppendFacts)
  // bounds how many. (Touching only sessions whose lines changed their facts was tried: the
  // comparison against fact_events made the delta hit the 4 GB query limit.) Kept in a table
  // because every side of the delta, the bucket count and the seen days read it: computed once,
  // staging is scanned for it once per cycle instead of once per use.
  const std::string c =
      fmt::format("_ingested_at >= toDateTime({}) AND _ingested_at <= toDateTime({})", since.since_unix, until_unix);
  return fmt::format(
      "CREATE TABLE {db}.fact_events_touched ENGINE = Memory AS "
      "SELECT event_id, click_id, toYYYYMMDD(event_timestamp) AS day FROM {db}.events_browser_raw WHERE "
      "event_id IN (SELECT event_id FROM {db}.events_browser_raw WHERE {c}) OR "
      "event_id IN (SELECT event_id FROM {db}.events_location_raw WHERE {c}) OR "
      "click_id IN (SELECT click_id FROM {db}.events_device_raw WHERE {c}) OR "
      "click_id IN (SELECT click_id FROM {db}.events_geo_raw WHERE {c})",
      fmt::arg("db", db), fmt::arg("c", c));
}

std::string TouchedDropSql(const std::string& db) {
  return fmt::format("DROP TABLE IF EXISTS {}.fact_events_touched", db);
}

std::string DeltaCreateSql(const std::string& db, const Bucket& bucket) {
  const std::string touched =
      fmt::format("{}.fact_events_touched{}", db, bucket.count > 1 ? " WHERE " + BucketCondition(bucket) : "");
  const std::string event_ids = fmt::format("event_id IN (SELECT event_id FROM {})", touched);
  const std::string click_ids = fmt::format("click_id IN (SELECT click_id FROM {})", touched);
  // Every copy of those events counts (latest wins), whatever its day.
  const std::string browser = LatestBy(db, "events_browser_raw", "event_id", kBrowserColumns, event_ids, "browser",
                                       ", max(_ingested_at) AS _seen_at");
  const std::string location = LatestBy(db, "events_location_raw", "event_id", kLocationColumns, event_ids, "location",
                                        ", toUInt8(1) AS has_location");
  const std::string device =
      LatestBy(db, "events_device_raw", "click_id", kDeviceColumns, click_ids, "device", ", toUInt8(1) AS has_device");
  const std::string geo =
      LatestBy(db, "events_geo_raw", "click_id", kGeoColumns, click_ids, "geo", ", toUInt8(1) AS has_geo");
  // A missing side joins as 0 (join_use_nulls is off), so _complete says all four are there.
  return fmt::format("{} SELECT {}, toUInt8(has_location AND has_device AND has_geo) AS _complete, _seen_at FROM {}",
                     bucket.index == 0 ? "CREATE TABLE " + db + ".fact_events_delta ENGINE = Memory AS"
                                       : "INSERT INTO " + db + ".fact_events_delta",
                     kFactSelect, JoinedSides(browser, location, device, geo));
}

std::string DeltaDropSql(const std::string& db) { return fmt::format("DROP TABLE IF EXISTS {}.fact_events_delta", db); }

std::string DeltaSeenDaysSql(const std::string& db) {
  // The touched rows are every browser copy of the delta's events.
  return fmt::format(
      "SELECT day FROM (SELECT day FROM {db}.fact_events_touched UNION ALL "
      "SELECT toYYYYMMDD(event_date) AS day FROM {db}.fact_events_delta) AS seen GROUP BY day ORDER BY day",
      fmt::arg("db", db));
}

// "event_date IN (...)", or no restriction at all for an empty list.
std::string DateFilter(const std::vector<Day>& days) {
  return days.empty() ? "1" : "event_date IN (" + DateList(days) + ")";
}

std::string DeltaChangedDaysSql(const std::string& db, const std::vector<Day>& seen_days) {
  return fmt::format(
      "SELECT fact_day, delta_day FROM (SELECT event_id, toYYYYMMDD(event_date) AS fact_day, {hash} AS fact_hash "
      "FROM {db}.fact_events WHERE {dates} AND "
      "event_id IN (SELECT event_id FROM {db}.fact_events_delta)) AS fact "
      "ANY INNER JOIN (SELECT event_id, toYYYYMMDD(event_date) AS delta_day, {hash} AS delta_hash "
      "FROM {db}.fact_events_delta) AS delta USING event_id "
      "WHERE fact_hash != delta_hash GROUP BY fact_day, delta_day",
      fmt::arg("db", db), fmt::arg("hash", kFactHash), fmt::arg("dates", DateFilter(seen_days)));
}

std::string DeltaNewFactsCondition(const std::string& db, const std::vector<Day>& seen_days, int64_t complete_by_unix) {
  return fmt::format(
      "event_id NOT IN (SELECT event_id FROM {db}.fact_events WHERE {dates}) "
      "AND (_complete OR _seen_at <= toDateTime({by}))",
      fmt::arg("db", db), fmt::arg("dates", DateFilter(seen_days)), fmt::arg("by", complete_by_unix));
}

std::string DeltaNewDaysSql(const std::string& db, const std::string& new_facts) {
  return fmt::format(
      "SELECT toYYYYMMDD(event_date) AS day FROM {}.fact_events_delta WHERE {} GROUP BY day "
      "ORDER BY day",
      db, new_facts);
}

std::string DeltaAppendSql(const std::string& db, const std::string& new_facts, const std::vector<Day>& days) {
  return fmt::format(
      "INSERT INTO {db}.fact_events_build ({cols}) SELECT {cols} FROM {db}.fact_events_delta "
      "WHERE {cond} AND toYYYYMMDD(event_date) IN ({days})",
      fmt::arg("db", db), fmt::arg("cols", kFactColumns), fmt::arg("cond", new_facts), fmt::arg("days", DayList(days)));
}

// What a copy out of fact_events keeps of an event_id found more than once: its newest fact.
// A copy must not carry rows a merge brought back beside the current ones (dwh_guard.h) into
// the twin: the twin is what the guard compares fact_events with, so it would no longer see them.
constexpr const char* kNewestFactPerEvent = "ORDER BY event_id, _built_at DESC LIMIT 1 BY event_id";

std::string PatchKeepSql(const std::string& db, Day day) {
  return fmt::format(
      "INSERT INTO {db}.fact_events_build ({cols}) SELECT {cols} FROM {db}.fact_events "
      "WHERE event_date = toDate('{date}') AND event_id NOT IN (SELECT event_id FROM {db}.fact_events_delta) {once}",
      fmt::arg("db", db), fmt::arg("cols", kFactColumns), fmt::arg("date", DayToIso(day)),
      fmt::arg("once", kNewestFactPerEvent));
}

std::string PatchDeltaSql(const std::string& db, Day day) {
  return fmt::format(
      "INSERT INTO {db}.fact_events_build ({cols}) SELECT {cols} FROM {db}.fact_events_delta "
      "WHERE event_date = toDate('{date}')",
      fmt::arg("db", db), fmt::arg("cols", kFactColumns), fmt::arg("date", DayToIso(day)));
}

std::string DayCountsSql(const std::string& db, const std::string& table, const std::vector<Day>& days) {
  return fmt::format("SELECT toYYYYMMDD(event_date) AS day, count() FROM {}.{} WHERE {} GROUP BY day ORDER BY day", db,
                     table, DateFilter(days));
}

std::string FactCarryForwardSql(const std::string& db, const std::vector<Day>& days) {
  const std::string dates = DateList(days);
  return fmt::format(
      "INSERT INTO {db}.fact_events_build ({cols}) SELECT {cols} FROM {db}.fact_events "
      "WHERE event_date IN ({dates}) AND event_id NOT IN ("
      "SELECT event_id FROM {db}.events_browser_raw WHERE event_id IN ("
      "SELECT event_id FROM {db}.fact_events WHERE event_date IN ({dates}))) {once}",
      fmt::arg("db", db), fmt::arg("cols", kFactColumns), fmt::arg("dates", dates),
      fmt::arg("once", kNewestFactPerEvent));
}

const std::vector<std::string>& DayPartitionedTables() {
  static const std::vector<std::string> tables = {"fact_events", "agg_events_hourly", "agg_traffic_sources"};
  return tables;
}

std::string DropBuildPartitionSql(const std::string& db, const std::string& table, Day day) {
  return fmt::format("ALTER TABLE {}.{}_build DROP PARTITION {}", db, table, day);
}

std::string ReplacePartitionSql(const std::string& db, const std::string& table, Day day) {
  return fmt::format("ALTER TABLE {db}.{t} REPLACE PARTITION {d} FROM {db}.{t}_build", fmt::arg("db", db),
                     fmt::arg("t", table), fmt::arg("d", day));
}

std::string DropPartitionSql(const std::string& db, const std::string& table, Day day) {
  return fmt::format("ALTER TABLE {}.{} DROP PARTITION {}", db, table, day);
}

std::string TwinPartsSql(const std::string& db, const std::string& table, const std::string& partition_id) {
  return fmt::format(
      "SELECT count() FROM system.parts WHERE database = {} AND table = {} AND partition_id = {} AND active", Quote(db),
      Quote(table + "_build"), Quote(partition_id));
}

std::string TruncateSql(const std::string& db, const std::string& table) {
  return fmt::format("TRUNCATE TABLE {}.{}", db, table);
}

// Ties on the timestamp (same second and microsecond) fall to the larger event_id, so the
// "last event" is the same on every rebuild.
constexpr const char* kLastEvent = "(event_timestamp, event_timestamp_us, event_id)";

std::string DimUsersInsertSql(const std::string& db) {
  // Events without a device row have no user (user_domain_id ''): not a user, not a row.
  return fmt::format(
      "INSERT INTO {db}.dim_users_build (user_domain_id, user_custom_id, first_seen, last_seen, "
      "events, os_name, device_type, geo_country, _built_at) "
      "SELECT user_domain_id, last.1 AS user_custom_id, first_seen, last_seen, events, "
      "last.2 AS os_name, last.3 AS device_type, last.4 AS geo_country, now() AS _built_at FROM ("
      "SELECT user_domain_id, min(event_timestamp) AS first_seen, max(event_timestamp) AS last_seen, "
      "count() AS events, argMax((user_custom_id, os_name, device_type, geo_country), {last}) AS last "
      "FROM {db}.fact_events WHERE user_domain_id != '' GROUP BY user_domain_id) AS users",
      fmt::arg("db", db), fmt::arg("last", kLastEvent));
}

std::string DimGeoInsertSql(const std::string& db) {
  // Events without a geo row have no country: they are not a place. The time zone is that of
  // the region's latest event (a city has one; argMax keeps the rebuild deterministic).
  return fmt::format(
      "INSERT INTO {db}.dim_geo_build (geo_country, geo_region_name, geo_timezone, latitude, "
      "longitude, users, events, _built_at) "
      "SELECT geo_country, geo_region_name, argMax(geo_timezone, {last}) AS geo_timezone, "
      "avg(geo_latitude) AS latitude, avg(geo_longitude) AS longitude, "
      "uniqExactIf(user_domain_id, user_domain_id != '') AS users, count() AS events, "
      "now() AS _built_at FROM {db}.fact_events WHERE geo_country != '' "
      "GROUP BY geo_country, geo_region_name",
      fmt::arg("db", db), fmt::arg("last", kLastEvent));
}

std::string ReplaceWholeTableSql(const std::string& db, const std::string& table) {
  return fmt::format("ALTER TABLE {db}.{t} REPLACE PARTITION tuple() FROM {db}.{t}_build", fmt::arg("db", db),
                     fmt::arg("t", table));
}

std::string RecordStateSql(const std::string& db, const std::string& component, int64_t watermark_unix,
                           const std::vector<Day>& days, uint64_t rows_built, int64_t started_unix) {
  const std::string day_array = days.empty() ? "emptyArrayDate()" : "[" + DateList(days) + "]";
  return fmt::format(
      "INSERT INTO {}.dwh_build_state (component, watermark, days, rows_built, started_at, "
      "finished_at) SELECT {}, toDateTime({}), {}, {}, toDateTime({}), now()",
      db, Quote(component), watermark_unix, day_array, rows_built, started_unix);
}

std::string LastWatermarkSql(const std::string& db, const std::string& component) {
  // max, not the latest row: watermarks only grow, and max needs no tie-break on finished_at.
  return fmt::format(
      "SELECT if(count() = 0, -1, toInt64(toUInt32(max(watermark)))) FROM {}.dwh_build_state "
      "WHERE component = {}",
      db, Quote(component));
}

std::vector<std::vector<Day>> BatchDays(const std::vector<Day>& days, const std::vector<DayRows>& rows_of,
                                        uint64_t target_rows) {
  std::map<Day, uint64_t> rows;
  for (const DayRows& r : rows_of) rows[r.day] = r.rows;
  std::vector<std::vector<Day>> batches;
  uint64_t in_batch = 0;
  for (Day day : days) {
    const uint64_t n = rows.count(day) ? rows[day] : 0;
    if (batches.empty() || target_rows <= 1 || (in_batch > 0 && in_batch + n > target_rows)) {
      batches.emplace_back();
      in_batch = 0;
    }
    batches.back().push_back(day);
    in_batch += n;
  }
  return batches;
}

}  // namespace clickflow::dwh
