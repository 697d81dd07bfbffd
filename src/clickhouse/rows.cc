#include "clickhouse/rows.h"

#include <fmt/format.h>
#include <charconv>

#include "clickhouse/client.h"
#include "common/error.h"

namespace clickflow {

namespace {

template <typename T>
T ParseNumber(const std::string& text, size_t column) {
  T value{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end) {
    throw Error(fmt::format("column {} of a ClickHouse result: expected a number, got '{}'", column + 1, text));
  }
  return value;
}

}  // namespace

const std::string& Row::Str(size_t i) const {
  if (i >= fields_.size()) {
    throw Error(fmt::format("a ClickHouse result row has {} columns, column {} was asked for", fields_.size(), i + 1));
  }
  return fields_[i];
}

int64_t Row::Int(size_t i) const {
  if (IsNull(i)) throw Error(fmt::format("column {} of a ClickHouse result: expected a number, got NULL", i + 1));
  return ParseNumber<int64_t>(Str(i), i);
}
uint64_t Row::UInt(size_t i) const {
  if (IsNull(i)) throw Error(fmt::format("column {} of a ClickHouse result: expected a number, got NULL", i + 1));
  return ParseNumber<uint64_t>(Str(i), i);
}

double Row::Double(size_t i) const {
  if (IsNull(i)) throw Error(fmt::format("column {} of a ClickHouse result: expected a number, got NULL", i + 1));
  return ParseNumber<double>(Str(i), i);
}

std::string UnescapeTabSeparated(std::string_view field) {
  if (field.find('\\') == std::string_view::npos) return std::string(field);
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '\\' || i + 1 == field.size()) {
      out += field[i];
      continue;
    }
    switch (const char c = field[++i]) {
      case 't':
        out += '\t';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case '0':
        out += '\0';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      default:
        out += c;  // \\ \' and any other escaped character stand for themselves
    }
  }
  return out;
}

Rows ParseTabSeparated(std::string_view body, bool keep_empty_lines) {
  Rows rows;
  while (!body.empty()) {
    const size_t eol = body.find('\n');
    const std::string_view line = body.substr(0, eol);
    body.remove_prefix(eol == std::string_view::npos ? body.size() : eol + 1);
    if (line.empty() && !keep_empty_lines) continue;
    std::vector<std::string> fields;
    std::vector<bool> nulls;
    for (size_t start = 0;;) {
      const size_t tab = line.find('\t', start);
      const std::string_view raw = line.substr(start, tab == std::string_view::npos ? tab : tab - start);
      if (raw == "\\N") {  // NULL; a text value "\N" arrives escaped as "\\N"
        nulls.resize(fields.size() + 1);
        nulls.back() = true;
        fields.emplace_back();
      } else {
        fields.push_back(UnescapeTabSeparated(raw));
      }
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    rows.emplace_back(std::move(fields), std::move(nulls));
  }
  return rows;
}

Rows QueryRows(ClickHouseClient& client, const std::string& sql) {
  return ParseTabSeparated(client.Query(sql, "TabSeparated"));
}

Row QueryFirstRow(ClickHouseClient& client, const std::string& sql) {
  Rows rows = QueryRows(client, sql);
  if (rows.empty()) throw Error("ClickHouse returned no row for: " + sql);
  return std::move(rows.front());
}

}  // namespace clickflow
