#include "generator/generator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "common/error.h"
#include "generator/generator_data.h"
#include "ingest/event_schema.h"

namespace clickflow::gen {
namespace {

constexpr int64_t kSecond = 1'000'000;  // timestamps are UTC microseconds
constexpr double kNewUserShare = 0.45;  // other sessions belong to returning users
constexpr double kOtherDeviceShare = 0.08;
constexpr double kTravelShare = 0.05;
constexpr double kNewIpShare = 0.3;
constexpr double kClickShare = 0.3;
constexpr uint32_t kCampaignWeights[] = {30, 25, 20, 15, 10};
constexpr uint32_t kGapWeights[] = {30, 35, 25, 10};  // between pages: 5-15 s ... 3-10 min
constexpr int64_t kGapBounds[][2] = {{5, 15}, {15, 60}, {60, 180}, {180, 600}};

// Streams keep each concern's draws independent, so e.g. raising --malformed-rate leaves the
// clean events exactly as they were.
enum Stream : uint64_t { kModelStream, kLateStream, kDuplicateStream, kMalformedStream };

class Builder {
 public:
  Builder(const Options& options, int64_t start_us)
      : options_(options), start_us_(start_us), rng_(options.seed, kModelStream) {
    for (const City& city : Cities()) {
      std::vector<uint32_t> rows;
      for (uint32_t i = 0; i < Locales().size(); ++i)
        if (Locales()[i].country == city.country) rows.push_back(i);
      if (rows.empty()) throw Error(fmt::format("generator: no locale for {}", city.country));
      locales_by_city_.push_back(std::move(rows));
    }
  }

  Model Build() {
    model_.events.reserve(options_.events);
    while (model_.events.size() < options_.events) {
      // Both draw from rng_, and argument order is unspecified (GCC went right to left, clang
      // left to right): draw the start first, as data/samples/ was made, on every compiler.
      const int64_t start = SessionStart();
      Walk(NewSession(), start);
    }
    return std::move(model_);
  }

 private:
  uint32_t NewUser() {
    User u;
    u.id = NewUuid(rng_);
    u.city = static_cast<uint16_t>(Pick(rng_, Cities()));
    PickDevice(&u.device, &u.version);
    const auto& rows = locales_by_city_[u.city];
    uint64_t total = 0;
    for (uint32_t row : rows) total += Locales()[row].weight;
    uint64_t r = rng_.Below(total);
    for (uint32_t row : rows) {
      if (r < Locales()[row].weight) {
        u.locale = static_cast<uint16_t>(row);
        break;
      }
      r -= Locales()[row].weight;
    }
    u.ip = NewIp();
    const std::string_view first = FirstNames()[rng_.Below(FirstNames().size())];
    const std::string_view last = LastNames()[rng_.Below(LastNames().size())];
    const std::string_view domain = EmailDomains()[Pick(rng_, EmailDomains())].value;
    switch (rng_.Below(4)) {
      case 0:
        u.email = fmt::format("{}{}@{}", first[0], last, domain);
        break;
      case 1:
        u.email = fmt::format("{}.{}@{}", first, last, domain);
        break;
      case 2:
        u.email = fmt::format("{}{}{}@{}", first, last, rng_.Between(1, 99), domain);
        break;
      default:
        u.email = fmt::format("{}{}@{}", first, rng_.Between(1970, 2005), domain);
        break;
    }
    model_.users.push_back(std::move(u));
    return static_cast<uint32_t>(model_.users.size() - 1);
  }

  uint32_t NewSession() {
    Session s;
    s.click_id = NewUuid(rng_);
    s.user = model_.users.empty() || rng_.Chance(kNewUserShare)
                 ? NewUser()
                 : static_cast<uint32_t>(rng_.Below(model_.users.size()));
    const User& u = model_.users[s.user];
    // Mostly the user's own device and home city; sometimes a second device or a trip.
    s.device = u.device;
    s.version = u.version;
    if (rng_.Chance(kOtherDeviceShare)) PickDevice(&s.device, &s.version);
    s.city = u.city;
    s.ip = u.ip;
    if (rng_.Chance(kTravelShare)) {
      s.city = static_cast<uint16_t>(Pick(rng_, Cities()));
      s.ip = NewIp();
    } else if (rng_.Chance(kNewIpShare)) {
      s.ip = NewIp();
    }
    // IP geolocation lands within a few kilometres of the city centre.
    s.lat_e5 = Cities()[s.city].lat_e5 + static_cast<int32_t>(rng_.Between(-3000, 3000));
    s.lon_e5 = Cities()[s.city].lon_e5 + static_cast<int32_t>(rng_.Between(-3000, 3000));
    s.source = static_cast<uint8_t>(Pick(rng_, TrafficSources()));
    s.campaign = static_cast<uint8_t>(Pick(rng_, std::span<const uint32_t>(kCampaignWeights)));
    s.content = static_cast<uint8_t>(rng_.Below(5));
    model_.sessions.push_back(s);
    return static_cast<uint32_t>(model_.sessions.size() - 1);
  }

  int64_t SessionStart() {
    const int64_t day = static_cast<int64_t>(rng_.Below(static_cast<uint64_t>(options_.days)));
    const int64_t hour = static_cast<int64_t>(Pick(rng_, HourWeights()));
    return start_us_ + (day * 24 + hour) * 3600 * kSecond + static_cast<int64_t>(rng_.Below(3600 * kSecond));
  }

  // One session down the funnel: each page a pageview, sometimes a click on it, then the next
  // step or the exit. Stops early once the requested number of events exists.
  void Walk(uint32_t session, int64_t t) {
    uint8_t page = rng_.Below(100) < 55 ? kHome : (rng_.Chance(0.55) ? kProductA : kProductB);
    bool switched_product = false;
    bool landing = true;
    while (true) {
      if (!Emit(session, page, false, landing, t)) return;
      if (rng_.Chance(kClickShare)) {
        t += rng_.Between(2, 45) * kSecond + static_cast<int64_t>(rng_.Below(kSecond));
        if (!Emit(session, page, true, landing, t)) return;
      }
      landing = false;
      switch (page) {
        case kHome:
          if (!rng_.Chance(0.65)) return;
          page = rng_.Chance(0.55) ? kProductA : kProductB;
          break;
        case kProductA:
        case kProductB: {
          const uint64_t r = rng_.Below(100);
          if (r < 15 && !switched_product) {
            switched_product = true;
            page = page == kProductA ? kProductB : kProductA;
          } else if (r < 45) {
            page = kCart;
          } else {
            return;
          }
          break;
        }
        case kCart:
          if (!rng_.Chance(0.5)) return;
          page = kPayment;
          break;
        case kPayment:
          if (!rng_.Chance(0.7)) return;
          page = kConfirmation;
          break;
        default:
          return;
      }
      const auto& gap = kGapBounds[Pick(rng_, std::span<const uint32_t>(kGapWeights))];
      t += rng_.Between(gap[0], gap[1]) * kSecond + static_cast<int64_t>(rng_.Below(kSecond));
    }
  }

  bool Emit(uint32_t session, uint8_t page, bool click, bool landing, int64_t t) {
    Event e;
    e.id = NewUuid(rng_);
    e.ts_us = e.emit_us = t;
    e.session = session;
    e.seq = static_cast<uint32_t>(model_.events.size());
    e.page = page;
    e.click = click;
    e.landing = landing;
    model_.events.push_back(e);
    return model_.events.size() < options_.events;
  }

  void PickDevice(uint16_t* device, uint16_t* version) {
    *device = static_cast<uint16_t>(Pick(rng_, DeviceProfiles()));
    const DeviceProfile& p = DeviceProfiles()[*device];
    *version = static_cast<uint16_t>(rng_.Between(p.version_min, p.version_max));
  }

  // A public-looking IPv4 address: no private, loopback, link-local, CGNAT or multicast ranges.
  uint32_t NewIp() {
    while (true) {
      const uint32_t a = static_cast<uint32_t>(rng_.Between(1, 223));
      const uint32_t b = static_cast<uint32_t>(rng_.Below(256));
      if (a == 10 || a == 127 || (a == 172 && b >= 16 && b < 32) || (a == 192 && b == 168) || (a == 169 && b == 254) ||
          (a == 100 && b >= 64 && b < 128))
        continue;
      return a << 24 | b << 16 | static_cast<uint32_t>(rng_.Below(256)) << 8 |
             static_cast<uint32_t>(rng_.Between(1, 254));
    }
  }

  const Options& options_;
  int64_t start_us_;
  Rng rng_;
  Model model_;
  std::vector<std::vector<uint32_t>> locales_by_city_;
};

// Late arrivals keep their timestamp but are emitted hours to days later; the file order is
// by emit time, so every other line is in timestamp order.
uint64_t MakeLate(const Options& options, std::vector<Event>& events) {
  uint64_t late = 0;
  if (options.late_rate > 0) {
    Rng rng(options.seed, kLateStream);
    for (Event& e : events) {
      if (!rng.Chance(options.late_rate)) continue;
      e.emit_us += rng.Between(2 * 3600, 72 * 3600) * kSecond + static_cast<int64_t>(rng.Below(kSecond));
      ++late;
    }
  }
  std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.emit_us < b.emit_us; });
  return late;
}

// One output file, written to NAME.tmp through a large buffer and renamed when complete, so a
// reader never sees half a data set.
class OutFile {
 public:
  explicit OutFile(const std::filesystem::path& path) : path_(path), tmp_(path.string() + ".tmp") {
    file_ = std::fopen(tmp_.c_str(), "wb");
    if (!file_) Fail();
  }
  ~OutFile() {
    if (file_) {
      std::fclose(file_);
      std::error_code ignored;
      std::filesystem::remove(tmp_, ignored);
    }
  }
  OutFile(const OutFile&) = delete;
  OutFile& operator=(const OutFile&) = delete;

  fmt::memory_buffer& buffer() { return buffer_; }
  void EndLine() {
    buffer_.push_back('\n');
    ++counts.lines;
    if (buffer_.size() >= (1 << 20)) Flush();
  }
  void Finish() {
    Flush();
    const int rc = std::fclose(file_);
    file_ = nullptr;
    if (rc != 0) Fail();
    std::filesystem::rename(tmp_, path_);
  }

  FileCounts counts;

 private:
  void Flush() {
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) Fail();
    buffer_.clear();
  }
  void Fail() const { throw Error(fmt::format("cannot write {}: {}", tmp_.string(), std::strerror(errno))); }

  std::filesystem::path path_, tmp_;
  std::FILE* file_ = nullptr;
  fmt::memory_buffer buffer_;
};

void Validate(const Options& o) {
  if (o.out_dir.empty()) throw Error("generate: --out is required");
  for (auto [name, rate] : {std::pair{"--duplicate-rate", o.duplicate_rate}, std::pair{"--late-rate", o.late_rate},
                            std::pair{"--malformed-rate", o.malformed_rate}})
    if (!(rate >= 0 && rate <= 1)) throw Error(fmt::format("generate: {} must be in [0, 1]", name));
  if (o.days < 1 || o.days > 3660) throw Error("generate: --days must be in [1, 3660]");
  // The whole event list is sorted in memory (about 100 bytes an event with its session).
  if (o.events > 100'000'000) throw Error("generate: --events must be at most 100000000");
}

void WriteManifest(const Options& o, const Summary& s) {
  nlohmann::ordered_json files;
  for (int k = 0; k < kFileCount; ++k) {
    const FileCounts& c = s.files[k];
    files[std::string(FileName(FileKind(k)))] = {
        {"lines", c.lines}, {"malformed", c.malformed}, {"duplicates", c.duplicates}, {"late", c.late}};
  }
  const nlohmann::ordered_json manifest = {{"generator", "clickflow generate"},
                                           {"seed", o.seed},
                                           {"events", s.events},
                                           {"start", o.start},
                                           {"days", o.days},
                                           {"duplicate_rate", o.duplicate_rate},
                                           {"late_rate", o.late_rate},
                                           {"malformed_rate", o.malformed_rate},
                                           {"sessions", s.sessions},
                                           {"users", s.users},
                                           {"late", s.late},
                                           {"files", files}};
  OutFile out(o.out_dir / "manifest.json");
  const std::string text = manifest.dump(2);
  out.buffer().append(text.data(), text.data() + text.size());
  out.EndLine();
  out.Finish();
}

}  // namespace

std::string_view FileName(FileKind kind) {
  // FileKind follows the order of AllTopicSchemas.
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& schema : AllTopicSchemas()) out.push_back(TopicFileName(schema.topic));
    return out;
  }();
  return names.at(kind);
}

Summary Generate(const Options& options) {
  Validate(options);
  int64_t start_us = 0;
  try {
    start_us = ParseUtcSeconds(options.start) * kSecond;
  } catch (const Error& e) {
    throw Error(fmt::format("generate: --start: {}", e.what()));
  }
  Model model = Builder(options, start_us).Build();

  Summary summary;
  summary.events = model.events.size();
  summary.sessions = model.sessions.size();
  summary.users = model.users.size();
  summary.late = MakeLate(options, model.events);

  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec) throw Error(fmt::format("cannot create {}: {}", options.out_dir.string(), ec.message()));
  std::vector<std::unique_ptr<OutFile>> out;
  for (int k = 0; k < kFileCount; ++k)
    out.push_back(std::make_unique<OutFile>(options.out_dir / FileName(FileKind(k))));

  LineWriter lines(model);
  Rng duplicate_rng(options.seed, kDuplicateStream);
  std::vector<Rng> malformed_rng;
  for (int k = 0; k < kFileCount; ++k) malformed_rng.emplace_back(options.seed, kMalformedStream + k);
  // Duplicates wait a few events before their second copy goes out, as a producer retry would.
  struct Pending {
    uint64_t due;
    uint32_t event;
  };
  std::vector<Pending> pending;
  auto write_duplicate = [&](const Event& e) {
    for (FileKind k : {kBrowser, kLocation}) {
      lines.Append(k, e, out[k]->buffer());
      out[k]->EndLine();
      ++out[k]->counts.duplicates;
    }
  };

  for (uint64_t pos = 0; pos < model.events.size(); ++pos) {
    const Event& e = model.events[pos];
    for (int k = 0; k < kFileCount; ++k) {
      OutFile& f = *out[k];
      if (options.malformed_rate > 0 && malformed_rng[k].Chance(options.malformed_rate)) {
        fmt::memory_buffer valid;
        lines.Append(FileKind(k), e, valid);
        const std::string bad = Corrupt(FileKind(k), fmt::to_string(valid), malformed_rng[k]);
        f.buffer().append(bad.data(), bad.data() + bad.size());
        f.EndLine();
        ++f.counts.malformed;
      }
      lines.Append(FileKind(k), e, f.buffer());
      f.EndLine();
      if (e.emit_us != e.ts_us) ++f.counts.late;
    }
    if (options.duplicate_rate > 0 && duplicate_rng.Chance(options.duplicate_rate))
      pending.push_back({pos + 1 + duplicate_rng.Below(30), static_cast<uint32_t>(pos)});
    for (size_t i = 0; i < pending.size();) {
      if (pending[i].due > pos) {
        ++i;
        continue;
      }
      write_duplicate(model.events[pending[i].event]);
      pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  for (const Pending& p : pending) write_duplicate(model.events[p.event]);

  for (int k = 0; k < kFileCount; ++k) {
    out[k]->Finish();
    summary.files[k] = out[k]->counts;
  }
  WriteManifest(options, summary);
  return summary;
}

}  // namespace clickflow::gen
