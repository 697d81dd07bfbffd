#pragma once
// Logging goes through spdlog to stderr; stdout is kept for command output (tables, CSV, JSON).
#include <spdlog/spdlog.h>

namespace clickflow {

// Sets up the stderr logger; `verbose` turns on debug messages.
void InitLogging(bool verbose);

}  // namespace clickflow
