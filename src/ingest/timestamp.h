#pragma once
// Event timestamps: "2022-11-28 20:51:05.627882" (the sample's UTC format) and ISO 8601
// ("2022-11-28T20:51:05.627882Z", "+02:00" offsets). ClickHouse 18.16 has no DateTime64, so a
// timestamp is stored as whole UTC seconds plus the microseconds within that second.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace clickflow {

struct Timestamp {
  uint32_t seconds = 0;  // UTC unix seconds (ClickHouse DateTime range: 1970..2105)
  uint32_t micros = 0;   // 0..999999
};

// nullopt when the text is not one of the accepted forms or out of DateTime's range.
std::optional<Timestamp> ParseTimestamp(std::string_view text);

// Days since 1970-01-01 of a proleptic Gregorian date (negative before 1970).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);

// "YYYY-MM-DD HH:MM:SS.ffffff" in UTC (the inverse of ParseTimestamp for the sample format).
std::string FormatTimestamp(Timestamp ts);

}  // namespace clickflow
