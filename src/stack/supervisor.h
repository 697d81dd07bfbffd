#pragma once
// The stack supervisor: a detached process (`clickflow stack supervise`) that starts the
// components in order, waits for each to be healthy, restarts any that dies or stays unhealthy
// (exponential backoff), and on SIGTERM stops them in reverse order. One per data dir.
#include "common/config.h"
#include "stack/stack_manager.h"

namespace clickflow::stack {

// Runs in the foreground until SIGTERM/SIGINT; returns the process exit code.
// `pipeline` fills the data part of the /status and /metrics endpoints.
int RunSupervisor(const Config& config, const PipelineStatusReader& pipeline);

}  // namespace clickflow::stack
