#pragma once
// Child processes: spawn with output to a log file, run to completion with captured output,
// and stop a process group politely then firmly.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace clickflow {

struct SpawnOptions {
  std::vector<std::string> argv;           // argv[0] is looked up on PATH
  std::map<std::string, std::string> env;  // added to (or replacing in) the inherited env
  std::filesystem::path log_file;          // stdout+stderr appended here; empty = inherit
  std::filesystem::path working_dir;       // empty = current
  std::string run_as_user;                 // switch to this user (root only); empty = stay
  bool new_session = true;                 // own process group, so Stop() reaches children
};

// Starts the process and returns its pid; throws Error when it cannot be executed.
pid_t Spawn(const SpawnOptions& options);

struct CommandResult {
  int exit_code = -1;  // 128+signal when killed by a signal
  std::string output;  // stdout and stderr interleaved
};

// Runs to completion and captures the output (no shell involved).
CommandResult RunCommand(const SpawnOptions& options);

bool IsAlive(pid_t pid);

// Reaps a child if it exited; returns its exit code or nullopt if still running.
std::optional<int> TryReap(pid_t pid);

// SIGTERM to the process group, wait up to `grace`, then SIGKILL; true if it had to be killed.
// What is left of the group once its leader is gone is killed too.
bool Stop(pid_t pid, std::chrono::milliseconds grace);

// SIGKILL to whatever is left of the process group `pgid` once its leader has exited: a server
// killed with -9 leaves its workers running (Airflow's LocalExecutor processes outlive their
// scheduler, hold metadata connections, and make PostgreSQL's shutdown wait for them).
void KillLeftoversOfGroup(pid_t pgid);

// Resident memory of a process in bytes (0 when unknown).
long ResidentBytes(pid_t pid);

// Resident memory of a process and all its descendants (gunicorn's and uvicorn's workers,
// PostgreSQL's backends): what a server costs.
long TreeResidentBytes(pid_t pid);

// Seconds since the process started (0 when unknown).
long UptimeSeconds(pid_t pid);

// Full path of an executable found on PATH (or the argument if it contains '/'); empty if none.
std::string FindExecutable(const std::string& name);

}  // namespace clickflow
