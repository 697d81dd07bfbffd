#pragma once
// The data behind `clickflow generate`: static tables (real cities with their country,
// coordinates and time zone; device/browser profiles with matching user agents; traffic
// sources; names), the generated records, and how a record becomes a JSON line of each file.
// Weights are relative integers (not percentages) so draws stay integer-only and portable.
#include <fmt/format.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "generator/generator.h"

namespace clickflow::gen {

struct City {
  std::string_view name;
  std::string_view country;  // ISO 3166 alpha-2
  int32_t lat_e5;            // degrees * 1e5, so coordinates never go through float formatting
  int32_t lon_e5;
  std::string_view timezone;
  uint32_t weight;
};

// Browser locales by country; a user draws one from their home country's rows.
struct LocaleShare {
  std::string_view country;
  std::string_view locale;
  uint32_t weight;
};

// One OS + browser combination. `user_agent` is an fmt pattern: {0} is the browser's major
// version drawn from [version_min, version_max], {1} an Opera version derived from it.
struct DeviceProfile {
  std::string_view os;
  std::string_view os_name;
  bool mobile;
  std::string_view browser;
  std::string_view user_agent;
  uint16_t version_min;
  uint16_t version_max;
  uint32_t weight;
};

// Where a session came from; the landing page carries it, later pages are internal.
struct TrafficSource {
  std::string_view referer_url;
  std::string_view referer_medium;
  std::string_view utm_medium;
  std::string_view utm_source;
  uint32_t weight;
};

struct Weighted {
  std::string_view value;
  uint32_t weight;
};

std::span<const City> Cities();
std::span<const LocaleShare> Locales();
std::span<const DeviceProfile> DeviceProfiles();
std::span<const TrafficSource> TrafficSources();
std::span<const Weighted> EmailDomains();
std::span<const std::string_view> FirstNames();
std::span<const std::string_view> LastNames();
std::span<const Weighted> NotJsonLines();
// Share of sessions starting in each UTC hour (0..23): an evening-heavy daily curve.
std::span<const uint32_t> HourWeights();

// xoshiro256** seeded through splitmix64, with our own integer and real draws: std
// distributions differ between standard libraries, and the output must be byte-identical.
class Rng {
 public:
  Rng(uint64_t seed, uint64_t stream) {
    uint64_t x = seed ^ (0x9E3779B97F4A7C15ULL * (stream + 1));
    for (uint64_t& s : s_) s = SplitMix(x);
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // [0, n) by multiply-shift (Lemire); the bias is far below anything a test could see.
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64); }
  int64_t Between(int64_t lo, int64_t hi) {  // inclusive
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }
  bool Chance(double p) { return static_cast<double>(Next() >> 11) * 0x1.0p-53 < p; }

 private:
  static uint64_t SplitMix(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

inline uint32_t WeightOf(uint32_t weight) { return weight; }
template <typename T>
uint32_t WeightOf(const T& row) {
  return row.weight;
}

// Index of a row drawn with probability proportional to its weight.
template <typename T>
size_t Pick(Rng& rng, std::span<const T> rows) {
  uint64_t total = 0;
  for (const T& row : rows) total += WeightOf(row);
  uint64_t r = rng.Below(total);
  for (size_t i = 0; i < rows.size(); ++i) {
    if (r < WeightOf(rows[i])) return i;
    r -= WeightOf(rows[i]);
  }
  return rows.size() - 1;
}

struct Uuid {
  uint64_t hi = 0, lo = 0;
};
Uuid NewUuid(Rng& rng);  // version 4, RFC 4122 variant

enum Page : uint8_t { kHome, kProductA, kProductB, kCart, kPayment, kConfirmation };
std::string_view PagePath(uint8_t page);

// The generated world: indices into the tables above, so a million events stay small.
struct User {
  Uuid id;
  std::string email;
  uint16_t city = 0, device = 0, version = 0, locale = 0;  // home city, usual device
  uint32_t ip = 0;
};

struct Session {  // one click_id
  Uuid click_id;
  uint32_t user = 0;
  uint16_t city = 0, device = 0, version = 0;
  uint8_t source = 0, campaign = 0, content = 0;
  int32_t lat_e5 = 0, lon_e5 = 0;
  uint32_t ip = 0;
};

struct Event {
  Uuid id;
  int64_t ts_us = 0;    // event_timestamp, UTC microseconds
  int64_t emit_us = 0;  // when it reaches the file: ts_us, or later for a late arrival
  uint32_t session = 0;
  uint32_t seq = 0;  // order of generation, within sessions in time order
  uint8_t page = 0;
  bool click = false;    // event_type click, else pageview
  bool landing = false;  // on the session's first page: the referer is the traffic source
};

struct Model {
  std::vector<User> users;
  std::vector<Session> sessions;
  std::vector<Event> events;
};

// Renders an event as its line (without newline) of each file; device and geo lines depend
// only on the session, so every event of a click_id repeats them identically.
class LineWriter {
 public:
  explicit LineWriter(const Model& model);
  void Append(FileKind kind, const Event& event, fmt::memory_buffer& out) const;

 private:
  std::string_view UserAgent(const Session& s) const {
    return agents_[agent_base_[s.device] + s.version - DeviceProfiles()[s.device].version_min];
  }
  const Model& model_;
  std::vector<std::string> agents_;   // user agent per device profile and version
  std::vector<uint32_t> agent_base_;  // first index in agents_ of each profile
};

// A line for the dead-letter table made from a valid one: truncated, not JSON at all, a
// required key missing, or a value of the wrong type.
std::string Corrupt(FileKind kind, std::string_view valid_line, Rng& rng);

}  // namespace clickflow::gen
