#include "cli/stop_signal.h"

#include <signal.h>

namespace clickflow::cli {

namespace {

std::atomic<bool> g_stop{false};
void OnStopSignal(int) { g_stop = true; }

}  // namespace

const std::atomic<bool>& StopOnSignals() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  return g_stop;
}

}  // namespace clickflow::cli
