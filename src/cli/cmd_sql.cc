// `clickflow sql "QUERY" [--format table|csv|json]`: run one statement against the configured
// ClickHouse. Unqualified table names resolve in clickhouse.database once it exists.
#include <algorithm>
#include <cctype>
#include <iostream>
#include <regex>
#include <sstream>

#include "cli/commands.h"
#include "clickhouse/client.h"
#include "clickhouse/rows.h"

namespace clickflow::cli {
namespace {

std::string FirstKeyword(std::string_view sql) {
  size_t i = 0;
  while (i < sql.size()) {
    if (std::isspace(static_cast<unsigned char>(sql[i])) || sql[i] == '(') {
      ++i;
    } else if (sql.substr(i, 2) == "--") {
      size_t end = sql.find('\n', i);
      i = end == std::string_view::npos ? sql.size() : end + 1;
    } else {
      break;
    }
  }
  std::string word;
  while (i < sql.size() && std::isalpha(static_cast<unsigned char>(sql[i]))) {
    word += static_cast<char>(std::toupper(static_cast<unsigned char>(sql[i++])));
  }
  return word;
}

bool ReturnsRows(std::string_view sql) {
  static const char* kKeywords[] = {"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXISTS", "EXPLAIN"};
  std::string word = FirstKeyword(sql);
  return std::any_of(std::begin(kKeywords), std::end(kKeywords), [&](const char* k) { return word == k; });
}

// The user asked for a format of their own; print the server's answer untouched.
bool HasFormatClause(const std::string& sql) {
  static const std::regex kFormat(R"(\bFORMAT\s+\w+\s*$)", std::regex::icase);
  return std::regex_search(sql, kFormat);
}

// A value as the table shows it: characters that would break the layout (tab, newline, ...)
// as their TabSeparated escapes, so a multi-line value stays on one visible line as "\n".
std::string DisplayValue(std::string_view value) {
  std::string out;
  for (char c : value) {
    switch (c) {
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\0':
        out += "\\0";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += c;
    }
  }
  return out;
}

size_t DisplayWidth(std::string_view text) {
  // Code points, not bytes: city names and user agents are UTF-8.
  return static_cast<size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool IsNumericType(std::string_view type) {
  if (type.starts_with("Nullable(")) type.remove_prefix(9);
  return type.starts_with("Int") || type.starts_with("UInt") || type.starts_with("Float") ||
         type.starts_with("Decimal");
}

// The cells of one row as shown; NULL as \N, the way the server writes it.
std::vector<std::string> DisplayCells(const Row& row) {
  std::vector<std::string> cells;
  for (size_t c = 0; c < row.size(); ++c) cells.push_back(row.IsNull(c) ? "\\N" : DisplayValue(row.Str(c)));
  return cells;
}

// Renders TabSeparatedWithNamesAndTypes as an aligned text table, numbers to the right.
std::string RenderTable(const std::string& tsv) {
  // Empty lines kept: a one-column row holding '' is one.
  const Rows parsed = ParseTabSeparated(tsv, true);
  if (parsed.size() < 2) return tsv;
  const std::vector<std::string> types = DisplayCells(parsed[1]);
  std::vector<std::vector<std::string>> rows = {DisplayCells(parsed[0]), types};
  for (size_t r = 2; r < parsed.size(); ++r) rows.push_back(DisplayCells(parsed[r]));
  const std::vector<std::string>& names = rows[0];
  std::vector<size_t> widths(names.size(), 0);
  for (size_t r = 0; r < rows.size(); ++r) {
    if (r == 1) continue;
    for (size_t c = 0; c < rows[r].size() && c < widths.size(); ++c) {
      widths[c] = std::max(widths[c], DisplayWidth(rows[r][c]));
    }
  }
  std::ostringstream out;
  auto emit = [&](const std::vector<std::string>& cells, bool header) {
    for (size_t c = 0; c < widths.size(); ++c) {
      const std::string cell = c < cells.size() ? cells[c] : "";
      std::string pad(widths[c] - std::min(widths[c], DisplayWidth(cell)), ' ');
      bool right = !header && c < types.size() && IsNumericType(types[c]);
      if (c > 0) out << "  ";
      if (right) {
        out << pad << cell;
      } else {
        out << cell << (c + 1 < widths.size() ? pad : "");
      }
    }
    out << "\n";
  };
  emit(names, true);
  for (size_t c = 0; c < widths.size(); ++c) out << (c > 0 ? "  " : "") << std::string(widths[c], '-');
  out << "\n";
  for (size_t r = 2; r < rows.size(); ++r) emit(rows[r], false);
  size_t count = rows.size() - 2;
  out << "(" << count << (count == 1 ? " row)\n" : " rows)\n");
  return out.str();
}

}  // namespace

void RegisterSql(CLI::App& app, GlobalOptions& global) {
  auto* cmd = app.add_subcommand("sql", "run one SQL statement against ClickHouse");
  auto query = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("table");
  cmd->add_option("query", *query, "the statement")->required();
  cmd->add_option("-f,--format", *format, "output for queries that return rows")
      ->check(CLI::IsMember({"table", "csv", "json"}));
  cmd->callback([&global, query, format] {
    Config config = global.LoadConfig();
    ClickHouseClient client(config.clickhouse);
    // Before `clickflow migrate` the database does not exist and naming it would fail every
    // statement, CREATE DATABASE included.
    if (client.QueryInt("SELECT count() FROM system.databases WHERE name = " + Quote(config.clickhouse.database)) > 0) {
      client.SetDefaultDatabase(config.clickhouse.database);
    }
    std::string sql = *query;
    while (!sql.empty() && (std::isspace(static_cast<unsigned char>(sql.back())) || sql.back() == ';')) {
      sql.pop_back();
    }
    if (!ReturnsRows(sql)) {
      client.Execute(sql);
      std::cout << "OK\n";
    } else if (HasFormatClause(sql)) {
      std::cout << client.Query(sql);
    } else if (*format == "csv") {
      std::cout << client.Query(sql, "CSVWithNames");
    } else if (*format == "json") {
      std::cout << client.Query(sql, "JSONEachRow");
    } else {
      std::cout << RenderTable(client.Query(sql, "TabSeparatedWithNamesAndTypes"));
    }
  });
}

}  // namespace clickflow::cli
