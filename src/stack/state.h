#pragma once
// The supervisor's view of the stack, written atomically to <data_dir>/run/stack.json after
// every change, read by `stack up` (to wait), `stack status` and `stack down`.
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace clickflow::stack {

struct ComponentState {
  std::string name;
  pid_t pid = 0;
  std::string state = "stopped";  // starting | healthy | unhealthy | restarting | failed | stopped
  int restarts = 0;
  long started_at = 0;  // unix seconds of the current process's start
  std::vector<int> ports;
  std::string error;
};

struct StackState {
  pid_t supervisor_pid = 0;
  std::string state = "starting";  // starting | running | stopping | failed
  std::string error;
  std::vector<ComponentState> components;
};

std::filesystem::path StateFile(const std::filesystem::path& run_dir);
void WriteState(const std::filesystem::path& run_dir, const StackState& state);
std::optional<StackState> ReadState(const std::filesystem::path& run_dir);

}  // namespace clickflow::stack
