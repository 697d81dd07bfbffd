#pragma once
// The ClickHouse server's version and the features clickflow adapts to. DDL and queries must
// work from Debian's 18.16 (local mode) to current releases (docker-compose); where the two
// differ, callers ask here instead of comparing numbers themselves.
#include <compare>
#include <string>
#include <string_view>

namespace clickflow {

class ClickHouseClient;

struct ServerVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;

  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 sees a literal 0 in a defaulted <=>
  auto operator<=>(const ServerVersion&) const = default;

  bool AtLeast(int major_wanted, int minor_wanted) const {
    return *this >= ServerVersion{major_wanted, minor_wanted, 0};
  }

  // TTL clauses on MergeTree tables (19.6); older servers reject the DDL outright.
  bool SupportsTtl() const { return AtLeast(19, 6); }
  // More than one JOIN in a SELECT. 19.x had it behind flags; from 20.1 it is on by default.
  bool SupportsMultipleJoins() const { return AtLeast(20, 1); }
  // DateTime64 (20.1); before that, sub-second precision needs a separate column.
  bool SupportsDateTime64() const { return AtLeast(20, 1); }
  // WITH name AS (SELECT ...) common table expressions (20.10).
  bool SupportsCte() const { return AtLeast(20, 10); }
  // Insert deduplication on plain MergeTree tables: the table setting
  // non_replicated_deduplication_window (21.5) and the INSERT setting insert_deduplication_token
  // (22.2), which names what an INSERT holds, so a retry of rows that already landed is dropped.
  bool SupportsInsertDeduplication() const { return AtLeast(22, 2); }
  // Parts a TRUNCATE or DROP PARTITION replaced come back if the server restarts within
  // old_parts_lifetime: seen on 18.16; 26.9 checked not to (TRUNCATE, kill -9, 0 rows).
  bool RestoresReplacedPartsAfterRestart() const { return !AtLeast(26, 9); }

  std::string ToString() const;
};

// Parses the text of `SELECT version()`: "18.16.1", "24.8.4.13", "23.3.1.2823 (official build)".
// Components past the third are ignored; throws Error on anything else.
ServerVersion ParseServerVersion(std::string_view text);

// Asks the server (`SELECT version()`).
ServerVersion QueryServerVersion(ClickHouseClient& client);

}  // namespace clickflow
