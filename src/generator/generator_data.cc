#include "generator/generator_data.h"

#include <fmt/compile.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace clickflow::gen {
namespace {

// Weights roughly follow each metro's share of a global e-commerce site's traffic.
constexpr City kCities[] = {
    {"New York", "US", 4071278, -7400597, "America/New_York", 70},
    {"Los Angeles", "US", 3405223, -11824368, "America/Los_Angeles", 50},
    {"Chicago", "US", 4187811, -8762980, "America/Chicago", 35},
    {"Houston", "US", 2976043, -9536980, "America/Chicago", 25},
    {"Seattle", "US", 4760621, -12233207, "America/Los_Angeles", 20},
    {"Miami", "US", 2576168, -8019179, "America/New_York", 20},
    {"Toronto", "CA", 4365348, -7938394, "America/Toronto", 20},
    {"Vancouver", "CA", 4928273, -12312074, "America/Vancouver", 10},
    {"Mexico City", "MX", 1943261, -9913321, "America/Mexico_City", 20},
    {"Guadalajara", "MX", 2065970, -10334961, "America/Mexico_City", 8},
    {"São Paulo", "BR", -2355052, -4663331, "America/Sao_Paulo", 30},
    {"Rio de Janeiro", "BR", -2290685, -4317290, "America/Sao_Paulo", 15},
    {"Buenos Aires", "AR", -3460368, -5838156, "America/Argentina/Buenos_Aires", 12},
    {"London", "GB", 5150735, -12776, "Europe/London", 50},
    {"Manchester", "GB", 5348076, -224263, "Europe/London", 15},
    {"Berlin", "DE", 5252001, 1340495, "Europe/Berlin", 30},
    {"Munich", "DE", 4813514, 1158198, "Europe/Berlin", 20},
    {"Hamburg", "DE", 5355108, 999368, "Europe/Berlin", 15},
    {"Wesseling", "DE", 5082709, 697470, "Europe/Berlin", 3},
    {"Paris", "FR", 4885661, 235222, "Europe/Paris", 35},
    {"Lyon", "FR", 4576404, 483566, "Europe/Paris", 10},
    {"Madrid", "ES", 4041678, -370379, "Europe/Madrid", 18},
    {"Barcelona", "ES", 4138506, 217340, "Europe/Madrid", 14},
    {"Rome", "IT", 4190278, 1249637, "Europe/Rome", 15},
    {"Milan", "IT", 4546427, 918951, "Europe/Rome", 15},
    {"Amsterdam", "NL", 5236757, 490414, "Europe/Amsterdam", 18},
    {"Warsaw", "PL", 5222977, 2101178, "Europe/Warsaw", 15},
    {"Stockholm", "SE", 5932932, 1806858, "Europe/Stockholm", 10},
    {"Istanbul", "TR", 4100824, 2897836, "Europe/Istanbul", 18},
    {"Lagos", "NG", 652438, 337921, "Africa/Lagos", 10},
    {"Johannesburg", "ZA", -2620410, 2804731, "Africa/Johannesburg", 8},
    {"Cape Town", "ZA", -3392487, 1842406, "Africa/Johannesburg", 5},
    {"Mumbai", "IN", 1907598, 7287766, "Asia/Kolkata", 30},
    {"Delhi", "IN", 2870406, 7710249, "Asia/Kolkata", 30},
    {"Bengaluru", "IN", 1297160, 7759456, "Asia/Kolkata", 25},
    {"Kolkata", "IN", 2257265, 8836389, "Asia/Kolkata", 12},
    {"Jakarta", "ID", -620876, 10684560, "Asia/Jakarta", 18},
    {"Tokyo", "JP", 3567624, 13965031, "Asia/Tokyo", 30},
    {"Osaka", "JP", 3469374, 13550218, "Asia/Tokyo", 12},
    {"Seoul", "KR", 3756654, 12697797, "Asia/Seoul", 18},
    {"Sydney", "AU", -3386882, 15120929, "Australia/Sydney", 15},
    {"Melbourne", "AU", -3781362, 14496305, "Australia/Melbourne", 12},
};

constexpr LocaleShare kLocales[] = {
    {"US", "en_US", 85},  {"US", "es_US", 15},  {"CA", "en_CA", 75},  {"CA", "fr_CA", 25},  {"MX", "es_MX", 95},
    {"MX", "en_US", 5},   {"BR", "pt_BR", 95},  {"BR", "en_US", 5},   {"AR", "es_AR", 100}, {"GB", "en_GB", 95},
    {"GB", "pl_PL", 5},   {"DE", "de_DE", 88},  {"DE", "en_US", 7},   {"DE", "tr_TR", 5},   {"FR", "fr_FR", 95},
    {"FR", "en_US", 5},   {"ES", "es_ES", 85},  {"ES", "ca_ES", 15},  {"IT", "it_IT", 100}, {"NL", "nl_NL", 85},
    {"NL", "en_US", 15},  {"PL", "pl_PL", 100}, {"SE", "sv_SE", 85},  {"SE", "en_US", 15},  {"TR", "tr_TR", 100},
    {"NG", "en_NG", 80},  {"NG", "yo_NG", 12},  {"NG", "ha_NG", 8},   {"ZA", "en_ZA", 70},  {"ZA", "zu_ZA", 15},
    {"ZA", "af_ZA", 15},  {"IN", "en_IN", 50},  {"IN", "hi_IN", 35},  {"IN", "bn_IN", 8},   {"IN", "sat_IN", 7},
    {"ID", "id_ID", 100}, {"JP", "ja_JP", 100}, {"KR", "ko_KR", 100}, {"AU", "en_AU", 100},
};

// Shares land near current desktop+mobile browser statistics: Chrome ~60%, Safari ~25%,
// Edge ~7%, Firefox ~5%, Opera ~3%.
constexpr DeviceProfile kDevices[] = {
    {"Windows NT 10.0", "Windows", false, "Chrome",
     "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/{0}.0.0.0 Safari/537.36",
     114, 120, 240},
    {"Windows NT 10.0", "Windows", false, "Edge",
     "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/{0}.0.0.0 Safari/537.36 Edg/{0}.0.0.0",
     114, 120, 70},
    {"Windows NT 10.0", "Windows", false, "Firefox",
     "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{0}.0) Gecko/20100101 Firefox/{0}.0", 115, 120, 25},
    {"Windows NT 10.0", "Windows", false, "Opera",
     "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/{0}.0.0.0 Safari/537.36 OPR/{1}.0.0.0",
     114, 120, 18},
    {"Windows NT 6.1", "Windows", false, "Chrome",
     "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/{0}.0.0.0 Safari/537.36",
     108, 109, 10},
    {"Macintosh; Intel Mac OS X 10_15_7", "MacOSX", false, "Safari",
     "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/{0}.1 Safari/605.1.15",
     15, 17, 55},
    {"Macintosh; Intel Mac OS X 10_15_7", "MacOSX", false, "Chrome",
     "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/{0}.0.0.0 Safari/537.36",
     114, 120, 55},
    {"Macintosh; Intel Mac OS X 10.15", "MacOSX", false, "Firefox",
     "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:{0}.0) Gecko/20100101 Firefox/{0}.0", 115, 120, 12},
    {"X11; Linux x86_64", "Linux", false, "Firefox",
     "Mozilla/5.0 (X11; Linux x86_64; rv:{0}.0) Gecko/20100101 Firefox/{0}.0", 115, 120, 12},
    {"X11; Linux x86_64", "Linux", false, "Chrome",
     "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/{0}.0.0.0 Safari/537.36",
     114, 120, 13},
    {"Linux; Android 14", "Android", true, "Chrome",
     "Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/{0}.0.0.0 Mobile Safari/537.36",
     118, 120, 60},
    {"Linux; Android 13", "Android", true, "Chrome",
     "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/{0}.0.0.0 Mobile Safari/537.36",
     116, 120, 60},
    {"Linux; Android 12", "Android", true, "Chrome",
     "Mozilla/5.0 (Linux; Android 12; SM-A525F) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/{0}.0.0.0 Mobile Safari/537.36",
     112, 120, 45},
    {"Linux; Android 10", "Android", true, "Chrome",
     "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/{0}.0.0.0 Mobile Safari/537.36",
     110, 120, 35},
    {"Linux; Android 13", "Android", true, "Opera",
     "Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/{0}.0.0.0 Mobile Safari/537.36 OPR/{1}.2.4027.0",
     114, 119, 12},
    {"Android 13; Mobile", "Android", true, "Firefox",
     "Mozilla/5.0 (Android 13; Mobile; rv:{0}.0) Gecko/{0}.0 Firefox/{0}.0", 115, 120, 10},
    {"iPhone; CPU iPhone OS 17_1 like Mac OS X", "iOS", true, "Safari",
     "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
     17, 17, 110},
    {"iPhone; CPU iPhone OS 16_6 like Mac OS X", "iOS", true, "Safari",
     "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
     16, 16, 45},
    {"iPhone; CPU iPhone OS 17_1 like Mac OS X", "iOS", true, "Chrome",
     "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) CriOS/{0}.0.6045.109 Mobile/15E148 Safari/604.1",
     118, 119, 30},
    {"iPad; CPU OS 16_6 like Mac OS X", "iOS", true, "Safari",
     "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/16.6 Mobile/15E148 Safari/604.1",
     16, 16, 25},
    // Old iPads still show up; this is the exact os string of the public sample.
    {"iPad; CPU iPad OS 4_2_1 like Mac OS X", "iOS", true, "Safari",
     "Mozilla/5.0 (iPad; CPU iPad OS 4_2_1 like Mac OS X) AppleWebKit/533.17.9 "
     "(KHTML, like Gecko) Version/5.0.2 Mobile/8C148 Safari/6533.18.5",
     5, 5, 3},
};

constexpr TrafficSource kSources[] = {
    {"www.google.com", "search", "organic", "google", 300},
    {"www.google.com", "paid", "cpc", "google", 150},
    {"www.bing.com", "search", "organic", "bing", 50},
    {"www.bing.com", "paid", "cpc", "bing", 25},
    {"www.facebook.com", "social", "social", "facebook", 140},
    {"www.facebook.com", "paid", "cpc", "facebook", 50},
    {"www.instagram.com", "social", "social", "instagram", 110},
    {"www.instagram.com", "paid", "cpc", "instagram", 30},
    {"mail.google.com", "email", "email", "newsletter", 70},
    {"www.dealspotter.com", "affiliate", "affiliate", "dealspotter", 40},
};

constexpr Weighted kEmailDomains[] = {
    {"gmail.com", 40}, {"yahoo.com", 15}, {"hotmail.com", 12},   {"outlook.com", 10},
    {"icloud.com", 8}, {"gmx.de", 5},     {"protonmail.com", 4}, {"aol.com", 3},
};

constexpr std::string_view kFirstNames[] = {
    "james",  "mary",      "robert",  "patricia", "john",    "jennifer", "michael", "linda",
    "david",  "elizabeth", "william", "barbara",  "richard", "susan",    "joseph",  "jessica",
    "thomas", "sarah",     "carlos",  "ana",      "lukas",   "lea",      "priya",   "arjun",
    "yuki",   "haruto",    "olivia",  "noah",     "fatima",  "emre",     "sofia",   "mateo"};

constexpr std::string_view kLastNames[] = {"smith",  "johnson",   "williams", "brown",  "jones",    "garcia",  "miller",
                                           "davis",  "rodriguez", "martinez", "perry",  "anderson", "taylor",  "thomas",
                                           "moore",  "jackson",   "martin",   "lee",    "mueller",  "schmidt", "silva",
                                           "santos", "sharma",    "patel",    "tanaka", "sato",     "kim",     "park",
                                           "rossi",  "dubois",    "kowalski", "yilmaz"};

constexpr Weighted kNotJson[] = {
    {"<html><body><h1>502 Bad Gateway</h1></body></html>", 3},
    {"ERROR: producer timed out after 30000 ms", 2},
    {"event_id=unknown;click_id=unknown;event_type=pageview", 2},
    {"{'event_id': 'single-quoted', 'event_type': 'pageview'}", 2},
    {"Segmentation fault (core dumped)", 1},
    {"{\"event_id\":\"a\",,\"event_type\":}", 1},
};

constexpr uint32_t kHours[] = {20, 14, 10, 8,  8,  10, 16, 24, 32, 38, 42, 44,
                               46, 46, 44, 44, 46, 50, 56, 62, 64, 56, 42, 30};

}  // namespace

std::span<const City> Cities() { return kCities; }
std::span<const LocaleShare> Locales() { return kLocales; }
std::span<const DeviceProfile> DeviceProfiles() { return kDevices; }
std::span<const TrafficSource> TrafficSources() { return kSources; }
std::span<const Weighted> EmailDomains() { return kEmailDomains; }
std::span<const std::string_view> FirstNames() { return kFirstNames; }
std::span<const std::string_view> LastNames() { return kLastNames; }
std::span<const Weighted> NotJsonLines() { return kNotJson; }
std::span<const uint32_t> HourWeights() { return kHours; }

}  // namespace clickflow::gen

// ---- records and their lines ----

namespace clickflow::gen {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void PutDigits(char* out, uint64_t value, int width) {
  for (int i = width - 1; i >= 0; --i, value /= 10) out[i] = static_cast<char>('0' + value % 10);
}

void PutUuid(const Uuid& u, char* out) {  // 36 chars, a byte (two hex digits) at a time
  static constexpr int kDashAfterByte[] = {0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 16; ++i) {
    const uint64_t byte = ((i < 8 ? u.hi : u.lo) >> (56 - 8 * (i % 8))) & 0xFF;
    *out++ = kHex[byte >> 4];
    *out++ = kHex[byte & 0xF];
    if (kDashAfterByte[i]) *out++ = '-';
  }
}

// Proleptic Gregorian calendar conversions (H. Hinnant's algorithms), so no time zone
// database or locale is involved.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

void PutTimestamp(int64_t us, char* out) {  // "YYYY-MM-DD HH:MM:SS.ffffff", 26 chars
  const int64_t days = (us >= 0 ? us : us - 86'400'000'000 + 1) / 86'400'000'000;
  const int64_t in_day = us - days * 86'400'000'000;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  const auto secs = static_cast<uint64_t>(in_day / 1'000'000);
  PutDigits(out, static_cast<uint64_t>(y), 4);
  PutDigits(out + 5, m, 2);
  PutDigits(out + 8, d, 2);
  PutDigits(out + 11, secs / 3600, 2);
  PutDigits(out + 14, secs / 60 % 60, 2);
  PutDigits(out + 17, secs % 60, 2);
  PutDigits(out + 20, static_cast<uint64_t>(in_day % 1'000'000), 6);
  out[4] = out[7] = '-';
  out[10] = ' ';
  out[13] = out[16] = ':';
  out[19] = '.';
}

// Degrees * 1e5 as the sample writes them: "50.82709", "6.9747" (trailing zeros dropped).
size_t PutCoordinate(int32_t e5, char* out) {
  size_t n = 0;
  if (e5 < 0) out[n++] = '-';
  const uint32_t v = e5 < 0 ? static_cast<uint32_t>(-static_cast<int64_t>(e5)) : e5;
  n += static_cast<size_t>(fmt::format_to(out + n, FMT_COMPILE("{}"), v / 100000) - (out + n));
  out[n++] = '.';
  PutDigits(out + n, v % 100000, 5);
  size_t end = n + 5;
  while (end > n + 1 && out[end - 1] == '0') --end;
  return end;
}

constexpr std::string_view kPaths[] = {"/home", "/product_a", "/product_b", "/cart", "/payment", "/confirmation"};
constexpr std::string_view kAds[] = {"ad_1", "ad_2", "ad_3", "ad_4", "ad_5"};
constexpr std::string_view kCampaigns[] = {"campaign_1", "campaign_2", "campaign_3", "campaign_4", "campaign_5"};

}  // namespace

Uuid NewUuid(Rng& rng) {
  Uuid u{rng.Next(), rng.Next()};
  u.hi = (u.hi & ~0xF000ULL) | 0x4000ULL;
  u.lo = (u.lo & (~0ULL >> 2)) | (1ULL << 63);
  return u;
}

std::string_view PagePath(uint8_t page) { return kPaths[page]; }

int64_t ParseUtcSeconds(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, used = 0;
  const char* p = text.c_str();
  bool ok = std::sscanf(p, "%4d-%2d-%2d%n", &y, &mo, &d, &used) == 3;
  if (ok && p[used] != '\0') {
    int more = 0;
    ok = (p[used] == ' ' || p[used] == 'T') && std::sscanf(p + used + 1, "%2d:%2d:%2d%n", &h, &mi, &s, &more) == 3;
    used += 1 + more;
    if (ok && p[used] == 'Z') ++used;
    ok = ok && p[used] == '\0';
  }
  const int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t cy = 0;
  unsigned cm = 0, cd = 0;
  if (ok && mo >= 1 && mo <= 12 && d >= 1 && d <= 31) CivilFromDays(days, &cy, &cm, &cd);
  if (!ok || cy != y || cm != static_cast<unsigned>(mo) || cd != static_cast<unsigned>(d) || h > 23 || mi > 59 ||
      s > 59 || h < 0 || mi < 0 || s < 0)
    throw Error(fmt::format("not a UTC time 'YYYY-MM-DD HH:MM:SS': '{}'", text));
  return days * 86400 + h * 3600 + mi * 60 + s;
}

LineWriter::LineWriter(const Model& model) : model_(model) {
  for (const DeviceProfile& p : DeviceProfiles()) {
    agent_base_.push_back(static_cast<uint32_t>(agents_.size()));
    // Opera's own major version runs about 14 behind the Chromium it is built on.
    for (unsigned v = p.version_min; v <= p.version_max; ++v)
      agents_.push_back(fmt::format(fmt::runtime(p.user_agent), v, v - 14));
  }
}

void LineWriter::Append(FileKind kind, const Event& e, fmt::memory_buffer& out) const {
  const Session& s = model_.sessions[e.session];
  const User& u = model_.users[s.user];
  const DeviceProfile& device = DeviceProfiles()[s.device];
  const City& city = Cities()[s.city];
  auto it = std::back_inserter(out);
  char click_id[36], id[36];
  PutUuid(s.click_id, click_id);
  const std::string_view click(click_id, 36), event_id(id, 36);
  switch (kind) {
    case kBrowser: {
      char ts[26];
      PutTimestamp(e.ts_us, ts);
      PutUuid(e.id, id);
      fmt::format_to(it,
                     FMT_COMPILE(R"({{"event_id":"{}","event_timestamp":"{}","event_type":"{}",)"
                                 R"("click_id":"{}","browser_name":"{}","browser_user_agent":"{}",)"
                                 R"("browser_language":"{}"}})"),
                     event_id, std::string_view(ts, 26), e.click ? "click" : "pageview", click, device.browser,
                     UserAgent(s), Locales()[u.locale].locale);
      break;
    }
    case kDevice: {
      PutUuid(u.id, id);
      fmt::format_to(it,
                     FMT_COMPILE(R"({{"click_id":"{}","os":"{}","os_name":"{}","os_timezone":"{}",)"
                                 R"("device_type":"{}","device_is_mobile":{},)"
                                 R"("user_custom_id":"{}",)"
                                 R"("user_domain_id":"{}"}})"),
                     click, device.os, device.os_name, Cities()[u.city].timezone, device.mobile ? "Mobile" : "Computer",
                     device.mobile ? "true" : "false", u.email, event_id);
      break;
    }
    case kGeo: {
      char lat[16], lon[16];
      const std::string_view lat_text(lat, PutCoordinate(s.lat_e5, lat));
      const std::string_view lon_text(lon, PutCoordinate(s.lon_e5, lon));
      fmt::format_to(it,
                     FMT_COMPILE(R"({{"click_id":"{}","geo_latitude":"{}","geo_longitude":"{}",)"
                                 R"("geo_country":"{}","geo_timezone":"{}","geo_region_name":"{}",)"
                                 R"("ip_address":"{}.{}.{}.{}"}})"),
                     click, lat_text, lon_text, city.country, city.timezone, city.name, s.ip >> 24, (s.ip >> 16) & 0xFF,
                     (s.ip >> 8) & 0xFF, s.ip & 0xFF);
      break;
    }
    default: {
      PutUuid(e.id, id);
      const TrafficSource& source = TrafficSources()[s.source];
      fmt::format_to(it,
                     FMT_COMPILE(R"({{"event_id":"{}","page_url":"http://www.dummywebsite.com{}",)"
                                 R"("page_url_path":"{}","referer_url":"{}","referer_medium":"{}",)"
                                 R"("utm_medium":"{}","utm_source":"{}","utm_content":"{}",)"
                                 R"("utm_campaign":"{}"}})"),
                     event_id, kPaths[e.page], kPaths[e.page], e.landing ? source.referer_url : "www.dummywebsite.com",
                     e.landing ? source.referer_medium : "internal", source.utm_medium, source.utm_source,
                     kAds[s.content], kCampaigns[s.campaign]);
      break;
    }
  }
}

std::string Corrupt(FileKind kind, std::string_view valid, Rng& rng) {
  static constexpr uint32_t kKinds[] = {30, 20, 25, 25};  // truncated, not JSON, missing, type
  switch (Pick(rng, std::span<const uint32_t>(kKinds))) {
    case 0: {  // as a crashed producer leaves it; never cut inside a UTF-8 sequence
      auto cut = static_cast<size_t>(rng.Between(10, static_cast<int64_t>(valid.size()) - 2));
      while ((static_cast<unsigned char>(valid[cut]) & 0xC0) == 0x80) --cut;
      return std::string(valid.substr(0, cut));
    }
    case 1:
      return std::string(NotJsonLines()[Pick(rng, NotJsonLines())].value);
    case 2: {
      static const std::vector<std::string> kRequired[] = {
          {"event_id", "event_timestamp", "event_type", "click_id"}, {"click_id"}, {"click_id"}, {"event_id"}};
      auto json = nlohmann::ordered_json::parse(valid);
      json.erase(kRequired[kind][rng.Below(kRequired[kind].size())]);
      return json.dump();
    }
    default: {
      auto json = nlohmann::ordered_json::parse(valid);
      const bool first = rng.Chance(0.5);
      const std::string key = kind == kLocation || kind == kBrowser ? "event_id" : "click_id";
      if (!first) {
        json[key] = rng.Between(1, 999999);
      } else if (kind == kBrowser) {  // epoch seconds instead of the text form
        const std::string ts = json["event_timestamp"];
        json["event_timestamp"] = static_cast<double>(ParseUtcSeconds(ts.substr(0, 19))) + std::stod(ts.substr(19));
      } else if (kind == kDevice) {
        json["device_is_mobile"] = json["device_is_mobile"].get<bool>() ? "yes" : "no";
      } else if (kind == kGeo) {
        json["geo_latitude"] = true;
      } else {
        const nlohmann::ordered_json id = json[key];
        json[key] = {{"id", id}};
      }
      return json.dump();
    }
  }
}

}  // namespace clickflow::gen
