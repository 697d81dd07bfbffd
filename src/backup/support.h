#pragma once
// What backup and restore share: private files, PostgreSQL's client tools, timing.
#include <chrono>
#include <filesystem>
#include <string>

#include "common/config.h"
#include "common/process.h"

namespace clickflow::backup {

using Clock = std::chrono::steady_clock;

// A backup holds secrets: its folders are 0700 and every file 0600.
inline constexpr std::filesystem::perms kPrivateFile = std::filesystem::perms(0600);
inline constexpr std::filesystem::perms kPrivateDir = std::filesystem::perms(0700);

// Seconds since `begin`.
double Since(Clock::time_point begin);

// `db`.`table`, both back-quoted.
std::string QualifiedName(const std::string& db, const std::string& table);

// Copies `from` to `to` (0600), creating the folders on the way.
void CopyPrivate(const std::filesystem::path& from, const std::filesystem::path& to);

// pg_dump or pg_restore (`tool`) against the stack's PostgreSQL over TCP with the config's
// login (PGPASSWORD): works as root and as a user, and against a server we cannot reach by
// socket. The caller appends its own arguments.
SpawnOptions PostgresTool(const Config& config, const std::string& tool);

}  // namespace clickflow::backup
