#pragma once
// ClickHouse over its HTTP interface, the one protocol every server from 18.16 to current
// releases speaks the same way. One HttpClient (one libcurl easy handle) per client, reused for
// every request, so consecutive requests ride one keep-alive connection.
//
// Not thread-safe: a ClickHouseClient belongs to one thread at a time (the handle and its
// buffers are per request state). Threads that talk to ClickHouse each make their own.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "common/config.h"
#include "common/error.h"
#include "common/http_client.h"

namespace clickflow {

// The server executed the request and refused it (bad SQL, unknown table, wrong password, a
// limit hit). Retrying the same request gives the same answer.
class ClickHouseError : public Error {
 public:
  ClickHouseError(int code, std::string server_text, const std::string& what)
      : Error(what), code_(code), server_text_(std::move(server_text)) {}
  // ClickHouse's numeric error code (60 = unknown table, 81 = unknown database, ...); 0 when
  // the answer did not carry one (e.g. an HTTP error from a proxy in front of the server).
  int code() const { return code_; }
  // The server's message, e.g. "DB::Exception: Table analytics.x doesn't exist."
  const std::string& server_text() const { return server_text_; }

 private:
  int code_;
  std::string server_text_;
};

// The server could not be reached or did not answer in time (connection refused, DNS, reset,
// timeout). Worth retrying later. A request that timed out may still have run on the server:
// callers retrying writes must be idempotent (the loader re-reads its offsets first).
class ClickHouseUnavailable : public Error {
 public:
  using Error::Error;
};

struct ClickHouseTimeouts {
  std::chrono::milliseconds connect{5000};
  // Whole request, upload and result included; 0 = none. Warehouse builds can run for
  // minutes, so the default is generous; use max_execution_time to bound a query server-side.
  std::chrono::milliseconds request{600000};
};

// ClickHouse settings sent as URL parameters with one request (insert_deduplicate,
// max_execution_time, ...), plus the HTTP interface's own (default_format, database).
using ClickHouseSettings = std::map<std::string, std::string>;

class ClickHouseClient {
 public:
  explicit ClickHouseClient(const ClickHouseConfig& config, ClickHouseTimeouts timeouts = {});
  ~ClickHouseClient();
  ClickHouseClient(const ClickHouseClient&) = delete;
  ClickHouseClient& operator=(const ClickHouseClient&) = delete;

  // Database unqualified names resolve against (the `database` URL parameter); empty = the
  // user's default. It must exist, so set it only after `clickflow migrate` created it.
  void SetDefaultDatabase(std::string database) { database_ = std::move(database); }

  // Runs a statement that returns rows and gives back the body. `format` applies when the SQL
  // has no FORMAT clause of its own (empty = the server's TabSeparated).
  std::string Query(const std::string& sql, const std::string& format = "", const ClickHouseSettings& settings = {});

  // Runs a statement for its effect (DDL, INSERT ... SELECT, ALTER); the body is discarded.
  void Execute(const std::string& sql, const ClickHouseSettings& settings = {});

  // INSERT INTO <table_and_columns> FORMAT <format> with `data` as the rows. The query goes in
  // the URL and `data` is posted as is, without a copy, so batches of any size cost no memory
  // beyond the caller's buffer.
  void Insert(const std::string& table_and_columns, const std::string& format, std::string_view data,
              const ClickHouseSettings& settings = {});

  // The single number a query returns (count(), max(...)); throws Error if it is not one.
  int64_t QueryInt(const std::string& sql, const ClickHouseSettings& settings = {});

  // True when GET /ping answers "Ok."; never throws.
  bool Ping();

  const std::string& url() const { return url_; }

 private:
  struct Response {
    long status = 0;
    std::string body;
    std::string exception_code;  // X-ClickHouse-Exception-Code, sent by servers since ~19.x
  };
  Response Perform(const std::string& url, std::string_view body, bool post);
  std::string BuildUrl(const ClickHouseSettings& params);
  std::string Send(const std::string& sql_for_errors, ClickHouseSettings params, std::string_view body);

  std::string url_;
  std::string database_;
  ClickHouseTimeouts timeouts_;
  HttpClient http_;
};

// 'text' as a ClickHouse string literal: backslash and single quote escaped. Every SQL string
// built from values that come from outside (config, files, user input) goes through this.
std::string Quote(std::string_view text);

// `name` as a back-quoted identifier (backquote and backslash escaped).
std::string QuoteIdentifier(std::string_view name);

// What an error answer says: the code and the message, from either the pre-21 format
// "Code: 60, e.displayText() = DB::Exception: ..., e.what() = DB::Exception" or the newer
// "Code: 60. DB::Exception: ... (UNKNOWN_TABLE) (version 24.8.4.13 (official build))".
struct ParsedServerError {
  int code = 0;         // 0 when the text carries no code
  std::string message;  // trimmed; the whole text when it does not follow either format
};
ParsedServerError ParseServerError(std::string_view body);

}  // namespace clickflow
