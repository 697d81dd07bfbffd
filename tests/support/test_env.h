#pragma once
// Helpers for integration tests: the shared stack's config and running the clickflow binary.
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/process.h"

namespace clickflow::testing {

// The config the stack fixture wrote (ctest passes its path in CLICKFLOW_CONFIG).
inline const Config& StackConfig() {
  static const Config config = LoadConfig("");
  return config;
}

// Runs `clickflow --config <fixture config> args...` and returns exit code and output.
inline CommandResult Clickflow(const std::vector<std::string>& args) {
  SpawnOptions s;
  s.argv = {CLICKFLOW_BINARY, "--config", StackConfig().source};
  s.argv.insert(s.argv.end(), args.begin(), args.end());
  s.new_session = false;
  return RunCommand(s);
}

inline CommandResult RunProgram(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env = {}) {
  SpawnOptions s;
  s.argv = argv;
  s.env = env;
  s.new_session = false;
  return RunCommand(s);
}

}  // namespace clickflow::testing
