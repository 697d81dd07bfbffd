#include "ingest/offset_ranges.h"

#include <fmt/format.h>

#include <charconv>

#include "common/error.h"
#include "kafka/admin.h"

namespace clickflow {
namespace {

template <typename Int>
bool ParseInt(std::string_view text, Int& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

OffsetRange ParseToken(std::string_view token) {
  const size_t slash = token.rfind('/');
  const size_t eq = token.rfind('=');
  const size_t dash = token.rfind('-');
  OffsetRange r;
  const bool ok = slash != std::string_view::npos && slash > 0 && eq != std::string_view::npos && eq > slash &&
                  dash != std::string_view::npos && dash > eq &&
                  ParseInt(token.substr(slash + 1, eq - slash - 1), r.partition) &&
                  ParseInt(token.substr(eq + 1, dash - eq - 1), r.first) && ParseInt(token.substr(dash + 1), r.end) &&
                  r.partition >= 0 && r.first >= 0 && r.first <= r.end;
  if (!ok) throw Error(fmt::format("'{}' is not an offset range <topic>/<partition>=<first>-<end>", token));
  r.topic = std::string(token.substr(0, slash));
  return r;
}

}  // namespace

std::string FormatOffsetRanges(const std::vector<OffsetRange>& ranges) {
  std::string out;
  for (const OffsetRange& r : ranges) {
    if (!out.empty()) out += ' ';
    out += fmt::format("{}/{}={}-{}", r.topic, r.partition, r.first, r.end);
  }
  return out;
}

std::vector<OffsetRange> ParseOffsetRanges(std::string_view text) {
  std::vector<OffsetRange> out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = text.find_first_not_of(" \t\n", pos);
    if (start == std::string_view::npos) break;
    const size_t stop = std::min(text.find_first_of(" \t\n", start), text.size());
    out.push_back(ParseToken(text.substr(start, stop - start)));
    pos = stop;
  }
  return out;
}

std::vector<OffsetRange> RangesSince(const std::vector<OffsetRange>& before, const std::vector<OffsetRange>& now) {
  std::map<std::pair<std::string, int32_t>, int64_t> ended;
  for (const OffsetRange& r : before) ended[{r.topic, r.partition}] = r.end;
  std::vector<OffsetRange> out;
  for (const OffsetRange& r : now) {
    const auto it = ended.find({r.topic, r.partition});
    const int64_t first = it == ended.end() ? 0 : it->second;
    if (first > r.end) {
      throw Error(fmt::format("{}/{} ends at {} now, before it ended at {}", r.topic, r.partition, r.end, first));
    }
    out.push_back({r.topic, r.partition, first, r.end});
  }
  return out;
}

std::vector<OffsetRange> TopicOffsets(const std::string& bootstrap_servers, const std::string& topic) {
  kafka::Admin admin(bootstrap_servers);
  std::vector<OffsetRange> out;
  for (const kafka::TopicInfo& info : admin.Describe({topic})) {
    for (const kafka::PartitionInfo& p : info.partitions) {
      out.push_back({info.name, static_cast<int32_t>(p.id), p.low_watermark, p.high_watermark});
    }
  }
  if (out.empty()) throw Error("topic " + topic + " has no partitions");
  return out;
}

}  // namespace clickflow
