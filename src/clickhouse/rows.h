#pragma once
// Query results as rows of fields: the one parser of ClickHouse's TabSeparated output. Fields
// are unescaped (\t, \n, \\, \' ...) the way the server escapes them, and read as numbers with
// an error that names the column and the text when they are not one.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace clickflow {

class ClickHouseClient;

class Row {
 public:
  explicit Row(std::vector<std::string> fields) : fields_(std::move(fields)) {}
  size_t size() const { return fields_.size(); }
  // Field `i` as text; throws Error when the row has fewer fields.
  const std::string& Str(size_t i) const;
  // Field `i` as an integer or a floating-point number; throws Error when it is not one
  // (ClickHouse's \N, nan and inf are errors for Int, nan/inf parse for Double).
  int64_t Int(size_t i) const;
  uint64_t UInt(size_t i) const;
  double Double(size_t i) const;
  const std::vector<std::string>& fields() const { return fields_; }

 private:
  std::vector<std::string> fields_;
};
using Rows = std::vector<Row>;

// Splits a TabSeparated body into rows; a trailing newline ends the last row, empty lines
// are rows with one empty field only when `keep_empty_lines` (a one-column result may hold '').
Rows ParseTabSeparated(std::string_view body, bool keep_empty_lines = false);

// Runs `sql` (which must not carry a FORMAT clause) and returns its rows.
Rows QueryRows(ClickHouseClient& client, const std::string& sql);

// Undoes TabSeparated escaping of one field.
std::string UnescapeTabSeparated(std::string_view field);

}  // namespace clickflow
