#pragma once
// ClickHouse results and inserts too big for memory, streamed over HTTP. ClickHouseClient keeps
// a whole answer in a string; a table export of gigabytes must not, so these hand the result to
// a sink chunk by chunk and send an insert body from a file as it is read.
//
// No overall time limit (a big table takes as long as it takes), but a link where nothing moves
// for an hour is given up. Errors are those of ClickHouseClient: ClickHouseError for a refusal,
// ClickHouseUnavailable when the server cannot be reached.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "clickhouse/client.h"
#include "common/config.h"

namespace clickflow {

struct StreamOptions {
  // The server gzips the result (http_zlib_compression_level, 3 by default) and the sink
  // receives the gzip stream as it comes, so the client spends no CPU on it.
  bool gzip = false;
};

// Runs `sql` (a SELECT with its FORMAT clause) with `settings` and hands the body to `sink`;
// returns the bytes handed over. A sink that returns false stops the transfer: Error.
uint64_t StreamQuery(const ClickHouseConfig& config, const std::string& sql, ClickHouseSettings settings,
                     const StreamOptions& options, const std::function<bool(std::string_view chunk)>& sink);

// INSERT INTO <table> FORMAT <format> with the content of `file` as the body, streamed from
// disk. `gzip`: the file is a gzip stream, which the server inflates itself.
void InsertFile(const ClickHouseConfig& config, const std::string& table, const std::string& format,
                const std::filesystem::path& file, bool gzip);

}  // namespace clickflow
