#include "generator/generator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "clickflow_source_dir.h"
#include "common/error.h"
#include "generator/generator_data.h"

namespace clickflow::gen {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

enum class Shape { kUuid, kTimestamp, kText, kNumberText, kBool };
using Fields = std::vector<std::pair<std::string, Shape>>;

// docs/design.md#input-data, field by field and in the order the sample writes them.
const Fields& FieldsOf(FileKind kind) {
  static const Fields kFields[] = {
      {{"event_id", Shape::kUuid},
       {"event_timestamp", Shape::kTimestamp},
       {"event_type", Shape::kText},
       {"click_id", Shape::kUuid},
       {"browser_name", Shape::kText},
       {"browser_user_agent", Shape::kText},
       {"browser_language", Shape::kText}},
      {{"click_id", Shape::kUuid},
       {"os", Shape::kText},
       {"os_name", Shape::kText},
       {"os_timezone", Shape::kText},
       {"device_type", Shape::kText},
       {"device_is_mobile", Shape::kBool},
       {"user_custom_id", Shape::kText},
       {"user_domain_id", Shape::kUuid}},
      {{"click_id", Shape::kUuid},
       {"geo_latitude", Shape::kNumberText},
       {"geo_longitude", Shape::kNumberText},
       {"geo_country", Shape::kText},
       {"geo_timezone", Shape::kText},
       {"geo_region_name", Shape::kText},
       {"ip_address", Shape::kText}},
      {{"event_id", Shape::kUuid},
       {"page_url", Shape::kText},
       {"page_url_path", Shape::kText},
       {"referer_url", Shape::kText},
       {"referer_medium", Shape::kText},
       {"utm_medium", Shape::kText},
       {"utm_source", Shape::kText},
       {"utm_content", Shape::kText},
       {"utm_campaign", Shape::kText}},
  };
  return kFields[kind];
}

bool HasShape(const json& value, Shape shape) {
  static const std::regex kUuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  static const std::regex kTimestamp(R"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6})");
  if (shape == Shape::kBool) return value.is_boolean();
  if (!value.is_string()) return false;
  const std::string text = value.get<std::string>();
  switch (shape) {
    case Shape::kUuid:
      return std::regex_match(text, kUuid);
    case Shape::kTimestamp:
      return std::regex_match(text, kTimestamp);
    case Shape::kNumberText: {
      char* end = nullptr;
      std::strtod(text.c_str(), &end);
      return !text.empty() && *end == '\0';
    }
    default:
      return !text.empty();
  }
}

// "" when the line has exactly the sample's keys, in order, each of the right shape.
std::string ShapeError(FileKind kind, const std::string& line) {
  const json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "not a JSON object";
  const Fields& fields = FieldsOf(kind);
  if (j.size() != fields.size()) return "wrong number of keys";
  for (const auto& [key, shape] : fields)
    if (!j.contains(key) || !HasShape(j[key], shape)) return "bad or missing " + key;
  return "";
}

std::vector<std::string> ReadLines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Output {
  Summary summary;
  std::vector<std::string> lines[kFileCount];
  std::vector<json> rows[kFileCount];  // parsed lines of a clean run
};

Options OptionsFor(const std::string& name, uint64_t events, uint64_t seed) {
  Options o;
  o.out_dir = fs::path(::testing::TempDir()) / ("generator_" + name);
  fs::remove_all(o.out_dir);
  o.events = events;
  o.seed = seed;
  return o;
}

Output Execute(const Options& o, bool parse) {
  Output run;
  run.summary = Generate(o);
  for (int k = 0; k < kFileCount; ++k) {
    run.lines[k] = ReadLines(o.out_dir / FileName(FileKind(k)));
    if (parse)
      for (const auto& line : run.lines[k]) run.rows[k].push_back(json::parse(line));
  }
  return run;
}

int64_t Micros(const json& browser_row) {
  const std::string ts = browser_row["event_timestamp"];
  return ParseUtcSeconds(ts.substr(0, 19)) * 1'000'000 + std::stoll(ts.substr(20));
}

int PageRank(const std::string& path) {
  if (path == "/home") return 0;
  if (path == "/product_a" || path == "/product_b") return 1;
  if (path == "/cart") return 2;
  if (path == "/payment") return 3;
  return path == "/confirmation" ? 4 : -1;
}

TEST(GeneratorTest, SameSeedGivesByteIdenticalFiles) {
  Options a = OptionsFor("same_a", 3000, 11), b = OptionsFor("same_b", 3000, 11);
  for (Options* o : {&a, &b}) {
    o->duplicate_rate = o->late_rate = o->malformed_rate = 0.02;
    Generate(*o);
  }
  for (int k = 0; k < kFileCount; ++k) {
    const std::string name(FileName(FileKind(k)));
    EXPECT_EQ(ReadFile(a.out_dir / name), ReadFile(b.out_dir / name)) << name;
  }
  EXPECT_EQ(ReadFile(a.out_dir / "manifest.json"), ReadFile(b.out_dir / "manifest.json"));
}

TEST(GeneratorTest, DifferentSeedGivesDifferentFiles) {
  const Options a = OptionsFor("seed_a", 500, 1), b = OptionsFor("seed_b", 500, 2);
  Generate(a);
  Generate(b);
  for (int k = 0; k < kFileCount; ++k) {
    const std::string name(FileName(FileKind(k)));
    EXPECT_NE(ReadFile(a.out_dir / name), ReadFile(b.out_dir / name)) << name;
  }
}

TEST(GeneratorTest, CleanRunLinesHaveExactlyTheSampleShape) {
  const Output run = Execute(OptionsFor("shape", 3000, 5), true);
  const std::set<std::string> os_names = {"iOS", "Android", "Windows", "MacOSX", "Linux"};
  for (int k = 0; k < kFileCount; ++k) {
    ASSERT_EQ(run.lines[k].size(), 3000u) << FileName(FileKind(k));
    for (const auto& line : run.lines[k]) ASSERT_EQ(ShapeError(FileKind(k), line), "") << line;
  }
  for (const json& b : run.rows[kBrowser]) {
    EXPECT_TRUE(b["event_type"] == "pageview" || b["event_type"] == "click");
    EXPECT_NE(b["browser_user_agent"].get<std::string>().find("Mozilla/5.0 ("), std::string::npos);
  }
  for (const json& d : run.rows[kDevice]) {
    EXPECT_TRUE(os_names.count(d["os_name"])) << d;
    EXPECT_EQ(d["device_type"] == "Mobile", d["device_is_mobile"].get<bool>()) << d;
    EXPECT_NE(d["user_custom_id"].get<std::string>().find('@'), std::string::npos);
  }
  for (const json& l : run.rows[kLocation]) {
    EXPECT_EQ(l["page_url"], "http://www.dummywebsite.com" + l["page_url_path"].get<std::string>());
    EXPECT_NE(PageRank(l["page_url_path"]), -1) << l;
    const std::string content = l["utm_content"], campaign = l["utm_campaign"];
    EXPECT_TRUE(std::regex_match(content, std::regex("ad_[1-5]"))) << content;
    EXPECT_TRUE(std::regex_match(campaign, std::regex("campaign_[1-5]"))) << campaign;
  }
  for (const json& g : run.rows[kGeo])
    EXPECT_TRUE(
        std::regex_match(g["ip_address"].get<std::string>(), std::regex(R"(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})")));
}

TEST(GeneratorTest, DeviceAndGeoRepeatOneIdenticalLinePerBrowserEvent) {
  const Output run = Execute(OptionsFor("per_event", 3000, 6), true);
  std::map<std::string, std::string> device_of, geo_of;
  for (size_t i = 0; i < run.rows[kBrowser].size(); ++i) {
    const std::string click = run.rows[kBrowser][i]["click_id"];
    EXPECT_EQ(run.rows[kDevice][i]["click_id"], click);
    EXPECT_EQ(run.rows[kGeo][i]["click_id"], click);
    EXPECT_EQ(run.rows[kLocation][i]["event_id"], run.rows[kBrowser][i]["event_id"]);
    EXPECT_EQ(device_of.emplace(click, run.lines[kDevice][i]).first->second, run.lines[kDevice][i]);
    EXPECT_EQ(geo_of.emplace(click, run.lines[kGeo][i]).first->second, run.lines[kGeo][i]);
  }
  // click_id is a session: it repeats, about three events a session.
  EXPECT_GT(static_cast<double>(run.rows[kBrowser].size()) / device_of.size(), 2.0);
  EXPECT_EQ(device_of.size(), run.summary.sessions);
}

TEST(GeneratorTest, UsersReturnOverWeeksMostlyFromTheSameCountryAndDevice) {
  const Output run = Execute(OptionsFor("users", 6000, 7), true);
  std::map<std::string, std::map<std::string, int64_t>> sessions_of;  // user -> click -> time
  std::map<std::string, std::string> country_of, os_of;               // by click_id
  for (size_t i = 0; i < run.rows[kBrowser].size(); ++i) {
    const std::string click = run.rows[kBrowser][i]["click_id"];
    const std::string user = run.rows[kDevice][i]["user_domain_id"];
    sessions_of[user].emplace(click, Micros(run.rows[kBrowser][i]));
    country_of[click] = run.rows[kGeo][i]["geo_country"];
    os_of[click] = run.rows[kDevice][i]["os"];
  }
  EXPECT_EQ(sessions_of.size(), run.summary.users);
  int returning = 0, over_a_week = 0, sessions = 0, home_country = 0, usual_os = 0;
  for (const auto& [user, clicks] : sessions_of) {
    if (clicks.size() < 2) continue;
    ++returning;
    std::map<std::string, int> countries, systems;
    int64_t first = INT64_MAX, last = INT64_MIN;
    for (const auto& [click, t] : clicks) {
      ++countries[country_of[click]];
      ++systems[os_of[click]];
      first = std::min(first, t);
      last = std::max(last, t);
    }
    over_a_week += last - first > 7 * 86'400'000'000LL;
    sessions += static_cast<int>(clicks.size());
    for (const auto* counts : {&countries, &systems}) {
      int most = 0;
      for (const auto& [name, n] : *counts) most = std::max(most, n);
      (counts == &countries ? home_country : usual_os) += most;
    }
  }
  EXPECT_GT(returning, static_cast<int>(sessions_of.size()) / 3);
  EXPECT_GT(over_a_week, returning / 2);
  EXPECT_GT(home_country, sessions * 9 / 10);
  EXPECT_GT(usual_os, sessions * 85 / 100);
}

TEST(GeneratorTest, CitiesLieInTheirCountryNearTheirCoordinates) {
  // Independent spot checks of the table against the real world.
  const std::map<std::string, std::string> known = {{"Berlin", "DE"},    {"Mumbai", "IN"},  {"Sydney", "AU"},
                                                    {"São Paulo", "BR"}, {"Toronto", "CA"}, {"Wesseling", "DE"}};
  std::map<std::string, const City*> by_name;
  for (const City& c : Cities()) by_name[std::string(c.name)] = &c;
  for (const auto& [name, country] : known) EXPECT_EQ(by_name.at(name)->country, country);
  EXPECT_GE(by_name.size(), 40u);

  const Output run = Execute(OptionsFor("cities", 3000, 8), true);
  std::set<std::string> countries;
  for (const json& g : run.rows[kGeo]) {
    const City* city = by_name.at(g["geo_region_name"]);
    EXPECT_EQ(g["geo_country"], city->country);
    EXPECT_EQ(g["geo_timezone"], city->timezone);
    EXPECT_NEAR(std::stod(g["geo_latitude"].get<std::string>()), city->lat_e5 / 1e5, 0.05);
    EXPECT_NEAR(std::stod(g["geo_longitude"].get<std::string>()), city->lon_e5 / 1e5, 0.05);
    countries.insert(g["geo_country"]);
  }
  EXPECT_GE(countries.size(), 15u);
}

TEST(GeneratorTest, SessionsWalkTheFunnelInTimeOrderWithInternalReferers) {
  Options o = OptionsFor("funnel", 4000, 9);
  o.start = "2025-03-10 06:00:00";
  o.days = 3;
  const Output run = Execute(o, true);
  const int64_t start = ParseUtcSeconds(o.start) * 1'000'000;
  std::map<std::string, std::vector<std::pair<int64_t, size_t>>> events_of;  // click -> (t, row)
  for (size_t i = 0; i < run.rows[kBrowser].size(); ++i)
    events_of[run.rows[kBrowser][i]["click_id"]].emplace_back(Micros(run.rows[kBrowser][i]), i);
  std::set<int> deepest;
  for (auto& [click, events] : events_of) {
    std::sort(events.begin(), events.end());
    EXPECT_GE(events.front().first, start);
    EXPECT_LT(events.front().first, start + 3 * 86'400'000'000LL);
    const json& landing = run.rows[kLocation][events.front().second];
    EXPECT_LE(PageRank(landing["page_url_path"]), 1) << landing;
    int rank = 0;
    std::string page = landing["page_url_path"];
    bool left_landing = false;
    for (const auto& [t, row] : events) {
      const json& l = run.rows[kLocation][row];
      EXPECT_GE(PageRank(l["page_url_path"]), rank) << click;
      rank = PageRank(l["page_url_path"]);
      left_landing = left_landing || l["page_url_path"] != page;
      EXPECT_EQ(l["referer_medium"] == "internal", left_landing) << l;
      EXPECT_EQ(l["utm_source"], landing["utm_source"]);
      EXPECT_EQ(l["utm_campaign"], landing["utm_campaign"]);
    }
    EXPECT_LT(events.back().first - events.front().first, 3 * 3600 * 1'000'000LL);
    deepest.insert(rank);
  }
  EXPECT_EQ(deepest, (std::set<int>{0, 1, 2, 3, 4}));  // every step is reached and left
}

TEST(GeneratorTest, InjectionsMatchTheManifestAndTheRates) {
  Options o = OptionsFor("injections", 20000, 10);
  o.duplicate_rate = 0.01;
  o.late_rate = 0.03;
  o.malformed_rate = 0.02;
  const Output run = Execute(o, false);
  const json manifest = json::parse(ReadFile(o.out_dir / "manifest.json"));
  EXPECT_EQ(manifest["late"], run.summary.late);
  for (int k = 0; k < kFileCount; ++k) {
    const std::string name(FileName(FileKind(k)));
    std::set<std::string> seen;
    uint64_t malformed = 0, duplicates = 0, late = 0;
    int64_t latest = INT64_MIN;
    for (const auto& line : run.lines[k]) {
      if (!ShapeError(FileKind(k), line).empty()) {
        ++malformed;
      } else if ((k == kBrowser || k == kLocation) && !seen.insert(line).second) {
        ++duplicates;  // device and geo lines repeat per click_id by design
      } else if (k == kBrowser) {
        const int64_t t = Micros(json::parse(line));
        late += t < latest;
        latest = std::max(latest, t);
      }
    }
    const json& m = manifest["files"][name];
    EXPECT_EQ(m["lines"], run.lines[k].size()) << name;
    EXPECT_EQ(m["malformed"], malformed) << name;
    EXPECT_EQ(m["duplicates"], duplicates) << name;
    EXPECT_EQ(m["lines"], 20000 + malformed + duplicates) << name;
    EXPECT_EQ(m["late"], run.summary.late) << name;
    EXPECT_NEAR(malformed, 400, 100) << name;
    EXPECT_NEAR(duplicates, k == kBrowser || k == kLocation ? 200 : 0, 60) << name;
    if (k == kBrowser) {  // each late line is older than a line written before it
      EXPECT_LE(late, run.summary.late);
      EXPECT_GE(late, run.summary.late * 95 / 100);
    }
  }
  EXPECT_NEAR(run.summary.late, 600, 120);
}

TEST(GeneratorTest, InjectionsLeaveTheCleanEventsUnchanged) {
  Options dirty = OptionsFor("dirty", 2000, 12);
  dirty.duplicate_rate = dirty.late_rate = dirty.malformed_rate = 0.05;
  const Output clean = Execute(OptionsFor("clean", 2000, 12), false);
  const Output injected = Execute(dirty, false);
  for (int k = 0; k < kFileCount; ++k) {
    std::multiset<std::string> valid;
    std::set<std::string> seen;
    for (const auto& line : injected.lines[k])
      if (ShapeError(FileKind(k), line).empty() &&
          (k == kDevice || k == kGeo || seen.insert(line).second))  // device/geo repeat anyway
        valid.insert(line);
    EXPECT_EQ(valid, std::multiset<std::string>(clean.lines[k].begin(), clean.lines[k].end()));
  }
}

TEST(GeneratorTest, MalformedLinesCoverEveryKindInEveryFile) {
  Options o = OptionsFor("malformed_kinds", 4000, 13);
  o.malformed_rate = 0.05;
  const Output run = Execute(o, false);
  for (int k = 0; k < kFileCount; ++k) {
    std::set<std::string> kinds;
    for (const auto& line : run.lines[k]) {
      const std::string error = ShapeError(FileKind(k), line);
      if (error.empty()) continue;
      const json j = json::parse(line, nullptr, false);
      if (j.is_discarded())
        kinds.insert(line.starts_with("{\"") ? "truncated" : "not json");
      else
        kinds.insert(j.size() < FieldsOf(FileKind(k)).size() ? "missing" : "type");
    }
    EXPECT_EQ(kinds, (std::set<std::string>{"truncated", "not json", "missing", "type"})) << FileName(FileKind(k));
  }
}

TEST(GeneratorTest, ParsesStartTimesAsUtc) {
  EXPECT_EQ(ParseUtcSeconds("2026-11-01 00:00:00"), 1793491200);
  EXPECT_EQ(ParseUtcSeconds("2026-11-01"), 1793491200);
  EXPECT_EQ(ParseUtcSeconds("2024-02-29T12:30:05Z"), 1709209805);
  EXPECT_EQ(ParseUtcSeconds("1969-12-31 23:59:59"), -1);
  for (const char* bad : {"2026-02-30 00:00:00", "2026-11-01 24:00:00", "tomorrow", "2026-11-01x"})
    EXPECT_THROW(ParseUtcSeconds(bad), Error) << bad;
}

TEST(GeneratorTest, RejectsBadOptions) {
  Options o = OptionsFor("bad", 10, 1);
  o.malformed_rate = 1.5;
  EXPECT_THROW(Generate(o), Error);
  o = OptionsFor("bad", 10, 1);
  o.days = 0;
  EXPECT_THROW(Generate(o), Error);
  o = OptionsFor("bad", 10, 1);
  o.start = "someday";
  EXPECT_THROW(Generate(o), Error);
}

// data/samples/ must be exactly what the command writes, so the shipped set never drifts from
// the generator (regenerate with the command in data/samples/README.md).
TEST(GeneratorTest, ShippedSamplesAreWhatTheCommandWrites) {
  const fs::path out = fs::path(::testing::TempDir()) / "generator_samples";
  fs::remove_all(out);
  const std::string command = std::string(CLICKFLOW_BINARY) + " generate --out " + out.string() +
                              " --events 1000 --seed 42 --duplicate-rate 0.01 --late-rate 0.02"
                              " --malformed-rate 0.005 2>/dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const fs::path samples = fs::path(CLICKFLOW_SOURCE_DIR) / "data" / "samples";
  for (int k = 0; k <= kFileCount; ++k) {
    const std::string name = k < kFileCount ? std::string(FileName(FileKind(k))) : "manifest.json";
    EXPECT_EQ(ReadFile(out / name), ReadFile(samples / name)) << name;
  }
}

}  // namespace
}  // namespace clickflow::gen
