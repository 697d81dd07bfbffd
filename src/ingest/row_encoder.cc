#include "ingest/row_encoder.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "ingest/timestamp.h"

namespace clickflow {

namespace dom = simdjson::dom;

void AppendString(std::string& out, std::string_view value) {
  uint64_t n = value.size();
  do {
    uint8_t byte = n & 0x7F;
    n >>= 7;
    if (n) byte |= 0x80;
    out.push_back(static_cast<char>(byte));
  } while (n);
  out.append(value);
}

template <class T>
static void AppendRaw(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // x86-64 and ARM64 are little-endian, as RowBinary
  out.append(bytes, sizeof(T));
}

void AppendUInt8(std::string& out, uint8_t value) { out.push_back(static_cast<char>(value)); }
void AppendUInt16(std::string& out, uint16_t value) { AppendRaw(out, value); }
void AppendUInt32(std::string& out, uint32_t value) { AppendRaw(out, value); }
void AppendUInt64(std::string& out, uint64_t value) { AppendRaw(out, value); }
void AppendFloat64(std::string& out, double value) { AppendRaw(out, value); }

namespace {

const char* TypeName(dom::element_type type) {
  switch (type) {
    case dom::element_type::ARRAY:
      return "an array";
    case dom::element_type::OBJECT:
      return "an object";
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE:
      return "a number";
    case dom::element_type::STRING:
      return "a string";
    case dom::element_type::BOOL:
      return "a boolean";
    case dom::element_type::NULL_VALUE:
      return "null";
  }
  return "unknown";
}

// Trims what goes into an error message so one huge value cannot bloat the dead letters.
std::string Excerpt(std::string_view text) {
  constexpr size_t kMax = 60;
  return text.size() <= kMax ? std::string(text) : std::string(text.substr(0, kMax)) + "...";
}

bool ParseDecimal(std::string_view text, double& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && !text.empty();
}

}  // namespace

RowEncoder::RowEncoder(size_t max_message_bytes) : max_message_bytes_(max_message_bytes) { padded_.reserve(4096); }

std::string_view RowEncoder::RawKept(std::string_view raw) const {
  if (raw.size() <= max_message_bytes_) return raw;
  size_t keep = std::min(kOversizedRawPrefix, max_message_bytes_);
  // Back off over UTF-8 continuation bytes (10xxxxxx) so the prefix ends between characters.
  for (int i = 0; i < 3 && keep > 0 && (static_cast<unsigned char>(raw[keep]) & 0xC0) == 0x80; ++i) --keep;
  return raw.substr(0, keep);
}

bool RowEncoder::ReadSlots(const TopicSchema& schema, std::string_view json, std::string& error) {
  slots_.assign(schema.fields.size(), Slot{});
  padded_.assign(json);
  padded_.append(simdjson::SIMDJSON_PADDING, '\0');

  auto fail = [&](std::string reason) {
    error = std::move(reason);
    return false;
  };

  // The DOM API picks the fastest kernel for this CPU at run time (On Demand is bound to the
  // compile-time target, which for a portable build is the slow fallback).
  simdjson::dom::element doc;
  if (auto err = parser_.parse(padded_.data(), json.size(), false).get(doc)) {
    return fail(std::string("invalid JSON: ") + simdjson::error_message(err));
  }
  simdjson::dom::object object;
  if (doc.get(object)) return fail("not a JSON object");
  // Producers write the fields in one order, usually the schema's: look where the previous
  // field's successor is first, then everywhere (comparing every name costs 4% of the loader's
  // profile).
  size_t next = 0;
  for (auto [key, value] : object) {
    size_t index = next < schema.fields.size() && schema.fields[next].name == key ? next : 0;
    while (index < schema.fields.size() && schema.fields[index].name != key) ++index;
    if (index == schema.fields.size()) continue;  // unknown fields are ignored
    next = index + 1;

    const FieldSpec& spec = schema.fields[index];
    Slot& slot = slots_[index];
    const dom::element_type type = value.type();
    if (type == dom::element_type::NULL_VALUE) {
      slot = Slot{};
      continue;
    }
    // Only an error message needs the name as a string: no allocation per field and line.
    auto field_name = [&spec] { return std::string(spec.name); };
    switch (spec.kind) {
      case FieldKind::kString:
      case FieldKind::kTimestamp: {
        std::string_view text;
        if (value.get(text)) return fail(field_name() + ": expected a string, got " + TypeName(type));
        slot.text = text;
        break;
      }
      case FieldKind::kBool: {
        if (value.get(slot.flag)) return fail(field_name() + ": expected true or false, got " + TypeName(type));
        break;
      }
      case FieldKind::kCoordinate: {
        std::string_view text;
        if (!value.get(text)) {
          if (!ParseDecimal(text, slot.number)) return fail(field_name() + ": not a number: '" + Excerpt(text) + "'");
        } else if (value.get(slot.number)) {
          return fail(field_name() + ": expected a number or a numeric string, got " + TypeName(type));
        }
        if (!(slot.number >= spec.min && slot.number <= spec.max)) {
          return fail(field_name() + ": " + Excerpt(std::to_string(slot.number)) + " is out of range");
        }
        break;
      }
    }
    slot.present = true;
  }

  return true;
}

bool RowEncoder::CheckSlots(const TopicSchema& schema, std::string& error) {
  auto fail = [&](std::string reason) {
    error = std::move(reason);
    return false;
  };
  timestamps_.assign(schema.fields.size(), Timestamp{});
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    const FieldSpec& spec = schema.fields[i];
    const Slot& slot = slots_[i];
    const bool has_value = slot.present && (spec.kind != FieldKind::kString || !slot.text.empty());
    if (spec.required && !has_value) return fail("missing " + std::string(spec.name));
    if (spec.kind == FieldKind::kTimestamp && slot.present) {
      auto ts = ParseTimestamp(slot.text);
      if (!ts) return fail(std::string(spec.name) + ": not a timestamp: '" + Excerpt(slot.text) + "'");
      timestamps_[i] = *ts;
    }
  }
  return true;
}

void RowEncoder::WriteRow(const TopicSchema& schema, const RowOrigin& origin, std::string& out) const {
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    const Slot& slot = slots_[i];
    switch (schema.fields[i].kind) {
      case FieldKind::kString:
        AppendString(out, slot.text);
        break;
      case FieldKind::kTimestamp:
        AppendUInt32(out, timestamps_[i].seconds);
        AppendUInt32(out, timestamps_[i].micros);
        break;
      case FieldKind::kBool:
        AppendUInt8(out, slot.flag ? 1 : 0);
        break;
      case FieldKind::kCoordinate:
        AppendFloat64(out, slot.number);
        break;
    }
  }
  AppendString(out, origin.topic);
  AppendUInt16(out, origin.partition);
  AppendUInt64(out, origin.offset);
  AppendUInt32(out, origin.ingested_at);
}

bool RowEncoder::Encode(const TopicSchema& schema, std::string_view json, const RowOrigin& origin, std::string& out,
                        std::string& error) {
  if (json.size() > max_message_bytes_) {
    error = "message of " + std::to_string(json.size()) + " bytes is over the limit of " +
            std::to_string(max_message_bytes_) + " (pipeline.max_message_bytes); raw holds its first " +
            std::to_string(RawKept(json).size()) + " bytes";
    return false;
  }
  // Validate everything before writing a byte, so a rejected line leaves `out` unchanged.
  if (!ReadSlots(schema, json, error) || !CheckSlots(schema, error)) return false;
  WriteRow(schema, origin, out);
  return true;
}

void RowEncoder::EncodeDeadLetter(std::string_view raw, std::string_view error, const RowOrigin& origin,
                                  std::string& out) const {
  AppendString(out, origin.topic);
  AppendUInt16(out, origin.partition);
  AppendUInt64(out, origin.offset);
  AppendString(out, RawKept(raw));
  AppendString(out, error);
  AppendUInt32(out, origin.ingested_at);
}

}  // namespace clickflow
