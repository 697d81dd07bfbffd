#include "ingest/row_encoder.h"
#include "ingest/staging_batch.h"

#include <gtest/gtest.h>

#include "common/config.h"

namespace clickflow {
namespace {

// Reads RowBinary back, so the tests check the bytes ClickHouse will parse.
struct Reader {
  std::string_view data;
  size_t pos = 0;
  std::string String() {
    uint64_t n = 0;
    int shift = 0;
    uint8_t byte;
    do {
      byte = static_cast<uint8_t>(data[pos++]);
      n |= uint64_t(byte & 0x7F) << shift;
      shift += 7;
    } while (byte & 0x80);
    std::string s(data.substr(pos, n));
    pos += n;
    return s;
  }
  template <class T>
  T Raw() {
    T v;
    std::memcpy(&v, data.data() + pos, sizeof v);
    pos += sizeof v;
    return v;
  }
  bool AtEnd() const { return pos == data.size(); }
};

const RowOrigin kOrigin{"browser_events", 2, 1234, 1700000000};

class RowEncoderTest : public ::testing::Test {
 protected:
  bool Encode(std::string_view topic, std::string_view json) {
    out_.clear();
    error_.clear();
    RowOrigin origin = kOrigin;
    origin.topic = topic;
    return encoder_.Encode(*FindTopicSchema(topic), json, origin, out_, error_);
  }
  RowEncoder encoder_{static_cast<size_t>(Config{}.pipeline.max_message_bytes)};
  std::string out_;
  std::string error_;
};

TEST_F(RowEncoderTest, EncodesABrowserEventInColumnOrder) {
  ASSERT_TRUE(Encode("browser_events",
                     R"({"event_id":"e1","event_timestamp":"2022-11-28 20:51:05.627882","event_type":"pageview",)"
                     R"("click_id":"c1","browser_name":"Chrome","browser_user_agent":"UA","browser_language":"sat_IN",)"
                     R"("unknown_field":{"nested":[1,2]}})"))
      << error_;
  Reader r{out_};
  EXPECT_EQ(r.String(), "e1");
  EXPECT_EQ(r.Raw<uint32_t>(), 1669668665u);
  EXPECT_EQ(r.Raw<uint32_t>(), 627882u);
  EXPECT_EQ(r.String(), "pageview");
  EXPECT_EQ(r.String(), "c1");
  EXPECT_EQ(r.String(), "Chrome");
  EXPECT_EQ(r.String(), "UA");
  EXPECT_EQ(r.String(), "sat_IN");
  EXPECT_EQ(r.String(), "browser_events");
  EXPECT_EQ(r.Raw<uint16_t>(), 2);
  EXPECT_EQ(r.Raw<uint64_t>(), 1234u);
  EXPECT_EQ(r.Raw<uint32_t>(), 1700000000u);
  EXPECT_TRUE(r.AtEnd());
}

TEST_F(RowEncoderTest, GeoCoordinatesAcceptStringsAndNumbers) {
  ASSERT_TRUE(
      Encode("geo_events", R"({"click_id":"c","geo_latitude":"50.82709","geo_longitude":6.9747,"geo_country":"DE"})"))
      << error_;
  Reader r{out_};
  EXPECT_EQ(r.String(), "c");
  EXPECT_DOUBLE_EQ(r.Raw<double>(), 50.82709);
  EXPECT_DOUBLE_EQ(r.Raw<double>(), 6.9747);
  EXPECT_EQ(r.String(), "DE");
}

TEST_F(RowEncoderTest, DeviceBoolBecomesUInt8AndLongStringsUseMultiByteLengths) {
  const std::string long_os(300, 'x');
  ASSERT_TRUE(Encode("device_events", R"({"click_id":"c","os":")" + long_os + R"(","device_is_mobile":true})"))
      << error_;
  Reader r{out_};
  EXPECT_EQ(r.String(), "c");
  EXPECT_EQ(r.String(), long_os);
  EXPECT_EQ(r.String(), "");
  EXPECT_EQ(r.String(), "");
  EXPECT_EQ(r.String(), "");
  EXPECT_EQ(r.Raw<uint8_t>(), 1);
}

TEST_F(RowEncoderTest, UnescapesJsonStrings) {
  ASSERT_TRUE(Encode("location_events", R"({"event_id":"e\u00e9\"q","page_url_path":"\/home"})")) << error_;
  Reader r{out_};
  EXPECT_EQ(r.String(), "e\xC3\xA9\"q");
  EXPECT_EQ(r.String(), "");
  EXPECT_EQ(r.String(), "/home");
}

TEST_F(RowEncoderTest, RejectionsCarryAReasonAndLeaveTheBufferUnchanged) {
  struct Case {
    std::string_view topic, json, reason;
  };
  const Case cases[] = {
      {"browser_events", R"({"event_id":"e","event_type":"x","click_id":"c"})", "missing event_timestamp"},
      {"browser_events", R"({"event_id":"","event_timestamp":"2022-11-28 20:51:05","event_type":"x","click_id":"c"})",
       "missing event_id"},
      {"browser_events", R"({"event_id":"e","event_timestamp":1669668665,"event_type":"x","click_id":"c"})",
       "event_timestamp: expected a string, got a number"},
      {"browser_events", R"({"event_id":"e","event_timestamp":"soon","event_type":"x","click_id":"c"})",
       "event_timestamp: not a timestamp: 'soon'"},
      {"device_events", R"({"click_id":"c","device_is_mobile":"yes"})",
       "device_is_mobile: expected true or false, got a string"},
      {"geo_events", R"({"click_id":"c","geo_latitude":"north"})", "geo_latitude: not a number: 'north'"},
      {"geo_events", R"({"click_id":"c","geo_latitude":"91.5"})", "geo_latitude: 91.500000 is out of range"},
      {"location_events", R"({"page_url":"x"})", "missing event_id"},
      {"location_events", R"([1,2,3])", "not a JSON object"},
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(Encode(c.topic, c.json)) << c.json;
    EXPECT_EQ(error_, c.reason) << c.json;
    EXPECT_TRUE(out_.empty()) << c.json;
  }
}

TEST_F(RowEncoderTest, MalformedJsonIsRejected) {
  for (std::string_view json : {R"({"event_id":"e","event_timestamp":"2022-11-28 20:51)", "not json at all",
                                R"({"event_id":"e"} trailing)", ""}) {
    EXPECT_FALSE(Encode("browser_events", json)) << json;
    EXPECT_NE(error_.find("JSON"), std::string::npos) << json << " -> " << error_;
    EXPECT_TRUE(out_.empty());
  }
}

TEST_F(RowEncoderTest, DeadLetterRowHasTheDeadLetterColumns) {
  std::string out;
  encoder_.EncodeDeadLetter("{bad", "invalid JSON", kOrigin, out);
  Reader r{out};
  EXPECT_EQ(r.String(), "browser_events");
  EXPECT_EQ(r.Raw<uint16_t>(), 2);
  EXPECT_EQ(r.Raw<uint64_t>(), 1234u);
  EXPECT_EQ(r.String(), "{bad");
  EXPECT_EQ(r.String(), "invalid JSON");
  EXPECT_EQ(r.Raw<uint32_t>(), 1700000000u);
  EXPECT_TRUE(r.AtEnd());
}

// A browser event padded with an unknown field to exactly `size` bytes.
std::string BrowserEventOfSize(size_t size) {
  const std::string head =
      R"({"event_id":"e1","event_timestamp":"2022-11-28 20:51:05","event_type":"pageview","click_id":"c1",)"
      R"("pad":")";
  const std::string tail = R"("})";
  return head + std::string(size - head.size() - tail.size(), 'x') + tail;
}

TEST_F(RowEncoderTest, LineOverTheLimitIsRejectedWithItsSizeAndADeadLetterPrefix) {
  const size_t limit = 3 * RowEncoder::kOversizedRawPrefix;
  RowEncoder encoder{limit};
  const TopicSchema& schema = *FindTopicSchema("browser_events");

  const std::string at_limit = BrowserEventOfSize(limit);
  ASSERT_EQ(at_limit.size(), limit);
  EXPECT_TRUE(encoder.Encode(schema, at_limit, kOrigin, out_, error_)) << error_;

  const std::string over = BrowserEventOfSize(limit + 1);
  out_ = "previous row";
  EXPECT_FALSE(encoder.Encode(schema, over, kOrigin, out_, error_));
  EXPECT_EQ(out_, "previous row");
  const size_t kept = RowEncoder::kOversizedRawPrefix;  // ASCII: no character to back off from
  EXPECT_EQ(error_, "message of " + std::to_string(limit + 1) + " bytes is over the limit of " + std::to_string(limit) +
                        " (pipeline.max_message_bytes); raw holds its first " + std::to_string(kept) + " bytes");

  std::string dead;
  encoder.EncodeDeadLetter(over, error_, kOrigin, dead);
  Reader r{dead};
  EXPECT_EQ(r.String(), "browser_events");
  EXPECT_EQ(r.Raw<uint16_t>(), kOrigin.partition);
  EXPECT_EQ(r.Raw<uint64_t>(), kOrigin.offset);
  EXPECT_EQ(r.String(), over.substr(0, kept));
  EXPECT_EQ(r.String(), error_);
  EXPECT_EQ(r.Raw<uint32_t>(), kOrigin.ingested_at);
  EXPECT_TRUE(r.AtEnd());

  // A rejected line within the limit keeps all of its text.
  const std::string bad = "{" + std::string(limit - 1, ' ');
  EXPECT_EQ(encoder.RawKept(bad), bad);
}

TEST_F(RowEncoderTest, DeadLetterPrefixDoesNotCutACharacter) {
  RowEncoder encoder{RowEncoder::kOversizedRawPrefix};
  // "{" then two-byte characters: byte kOversizedRawPrefix is the second byte of one of them.
  std::string line = "{";
  while (line.size() <= 2 * RowEncoder::kOversizedRawPrefix) line += "\xC3\xA9";
  const std::string_view kept = encoder.RawKept(line);
  ASSERT_LT(kept.size(), RowEncoder::kOversizedRawPrefix);
  EXPECT_GE(kept.size(), RowEncoder::kOversizedRawPrefix - 3);
  EXPECT_EQ(kept, std::string_view(line).substr(0, kept.size()));
  EXPECT_NE(static_cast<unsigned char>(line[kept.size()]) & 0xC0, 0x80) << "the prefix ends inside a character";
  EXPECT_EQ((kept.size() - 1) % 2, 0u) << "whole characters after the brace";
}

TEST_F(RowEncoderTest, StampRewritesEveryRowsIngestedAtAndNothingElse) {
  TableRows rows;
  RowOrigin origin = kOrigin;
  origin.topic = "geo_events";
  const std::string json = R"({"click_id":"c1","geo_latitude":"1.5","geo_longitude":"2.5","geo_country":"FR",)"
                           R"("geo_timezone":"Europe/Paris","geo_region_name":"Paris","ip_address":"1.2.3.4"})";
  for (uint64_t offset : {7u, 8u}) {
    origin.offset = offset;
    ASSERT_TRUE(encoder_.Encode(*FindTopicSchema("geo_events"), json, origin, rows.data, error_)) << error_;
    rows.RowAdded(0, static_cast<int64_t>(offset));
  }
  encoder_.EncodeDeadLetter("{oops", "invalid JSON", origin, rows.data);
  rows.RowAdded(0, 9);
  const std::string before = rows.data;
  rows.Stamp(1800000123);
  ASSERT_EQ(rows.stamp_positions.size(), 3u);
  for (size_t at : rows.stamp_positions) {
    uint32_t stamp;
    std::memcpy(&stamp, rows.data.data() + at, 4);
    EXPECT_EQ(stamp, 1800000123u);
  }
  // Only the stamps changed: restoring them gives back the encoder's bytes.
  for (size_t at : rows.stamp_positions) std::memcpy(rows.data.data() + at, before.data() + at, 4);
  EXPECT_EQ(rows.data, before);
  rows.Clear();
  EXPECT_TRUE(rows.data.empty());
  EXPECT_TRUE(rows.stamp_positions.empty());
}

TEST(EventSchemaTest, ColumnListMatchesTheStagingTables) {
  EXPECT_EQ(FindTopicSchema("browser_events")->ColumnList(),
            "(event_id, event_timestamp, event_timestamp_us, event_type, click_id, browser_name, "
            "browser_user_agent, browser_language, _topic, _partition, _offset, _ingested_at)");
  EXPECT_EQ(FindTopicSchema("nope"), nullptr);
}

}  // namespace
}  // namespace clickflow
