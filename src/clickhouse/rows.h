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
  // `nulls` marks the fields that were NULL (\N); empty when none was.
  explicit Row(std::vector<std::string> fields, std::vector<bool> nulls = {})
      : fields_(std::move(fields)), nulls_(std::move(nulls)) {}
  size_t size() const { return fields_.size(); }
  // True when field `i` is NULL; its text is then empty.
  bool IsNull(size_t i) const { return i < nulls_.size() && nulls_[i]; }
  // Field `i` as text; throws Error when the row has fewer fields.
  const std::string& Str(size_t i) const;
  // Field `i` as an integer or a floating-point number; throws Error when it is not one
  // (NULL is not one; nan and inf parse for Double only).
  int64_t Int(size_t i) const;
  uint64_t UInt(size_t i) const;
  double Double(size_t i) const;
  const std::vector<std::string>& fields() const { return fields_; }

 private:
  std::vector<std::string> fields_;
  std::vector<bool> nulls_;
};
using Rows = std::vector<Row>;

// Splits a TabSeparated body into rows; a trailing newline ends the last row, empty lines
// are rows with one empty field only when `keep_empty_lines` (a one-column result may hold '').
Rows ParseTabSeparated(std::string_view body, bool keep_empty_lines = false);

// Runs `sql` (which must not carry a FORMAT clause) and returns its rows.
Rows QueryRows(ClickHouseClient& client, const std::string& sql);

// The first row `sql` returns (counts, versions, aggregates); throws Error naming the query
// when it returned none.
Row QueryFirstRow(ClickHouseClient& client, const std::string& sql);

// Undoes TabSeparated escaping of one field.
std::string UnescapeTabSeparated(std::string_view field);

}  // namespace clickflow
