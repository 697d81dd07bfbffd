#pragma once
// For long-running commands (`load --follow`, `dwh watch`): SIGTERM and SIGINT set a flag the
// command's loop polls, so it finishes its batch and exits cleanly instead of dying mid-write.
#include <atomic>

namespace clickflow::cli {

// Installs the handlers (idempotent) and returns the flag they set.
const std::atomic<bool>& StopOnSignals();

}  // namespace clickflow::cli
