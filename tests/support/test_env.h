#pragma once
// Helpers for integration tests: the shared stack's config and running the clickflow binary.
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "clickflow_source_dir.h"
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

// Runs a browser test of tests/e2e/ (node + playwright-core + Debian's headless Chromium) with
// `args`; screenshots go to ScreenshotDir(). Exit code 0 means every check of the script passed.
inline std::filesystem::path ScreenshotDir() {
  const std::filesystem::path dir = std::filesystem::path(CLICKFLOW_BUILD_DIR) / "screenshots";
  std::filesystem::create_directories(dir);
  return dir;
}

inline CommandResult RunBrowserTest(const std::string& script, std::vector<std::string> args) {
  std::vector<std::string> argv = {"node",
                                   (std::filesystem::path(CLICKFLOW_SOURCE_DIR) / "tests" / "e2e" / script).string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(argv);
}

}  // namespace clickflow::testing
