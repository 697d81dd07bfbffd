#include "stack/supervisor.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <ctime>
#include <map>
#include <memory>
#include <thread>

#include "common/error.h"
#include "common/metrics_server.h"
#include "common/prometheus.h"
#include "stack/component.h"
#include "stack/stack_manager.h"
#include "stack/state.h"

namespace clickflow::stack {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::seconds;

std::atomic<bool> g_stop{false};
void OnStopSignal(int) { g_stop = true; }

// Backoff between restarts of a crashing component: 1 s, 2 s, 4 s ... capped at 30 s; reset
// once it has stayed up for a minute.
constexpr seconds kMaxBackoff{30};
constexpr seconds kStableAfter{60};
// A live process failing its health check this long is considered hung and restarted.
constexpr seconds kUnhealthyLimit{60};
constexpr seconds kHealthInterval{5};

struct Running {
  std::unique_ptr<Component> component;
  ComponentState state;
  Clock::time_point started;
  Clock::time_point unhealthy_since{};
  Clock::time_point next_health_check{};
  seconds backoff{1};
};

class Supervisor {
 public:
  explicit Supervisor(const Config& config) : config_(config) {
    state_.supervisor_pid = ::getpid();
    for (auto& c : MakeComponents(config)) {
      Running r;
      r.state.name = c->Name();
      r.state.ports = c->Ports();
      r.component = std::move(c);
      running_.push_back(std::move(r));
    }
  }

  int Run() {
    Publish();
    for (auto& r : running_) {
      if (!StartAndWait(r)) {
        state_.state = "failed";
        state_.error = r.state.name + ": " + r.state.error;
        Publish();
        StopAll();
        return 1;
      }
    }
    state_.state = "running";
    Publish();
    spdlog::info("stack running");
    while (!g_stop) {
      for (auto& r : running_) Watch(r);
      Sleep(std::chrono::milliseconds(500));
    }
    StopAll();
    return 0;
  }

 private:
  void Publish() {
    state_.components.clear();
    for (const auto& r : running_) state_.components.push_back(r.state);
    WriteState(config_.RunDir(), state_);
  }

  // Sleeps in small steps so a stop signal is seen quickly.
  void Sleep(std::chrono::milliseconds total) {
    auto until = Clock::now() + total;
    while (!g_stop && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  bool StartAndWait(Running& r) {
    Component& c = *r.component;
    r.state.state = "starting";
    r.state.error.clear();
    Publish();
    try {
      c.Prepare();
      r.state.pid = Spawn(c.Command());
    } catch (const std::exception& e) {
      r.state.state = "failed";
      r.state.error = e.what();
      spdlog::error("{}: {}", c.Name(), e.what());
      Publish();
      return false;
    }
    r.started = Clock::now();
    r.state.started_at = std::time(nullptr);
    Publish();
    spdlog::info("{}: started pid {}", c.Name(), r.state.pid);

    const auto deadline = Clock::now() + c.StartTimeout();
    while (!g_stop && Clock::now() < deadline) {
      if (auto code = TryReap(r.state.pid)) {
        r.state.state = "failed";
        r.state.error = "exited with code " + std::to_string(*code) + " while starting; see " + c.LogFile().string();
        spdlog::error("{}: {}", c.Name(), r.state.error);
        Publish();
        return false;
      }
      if (c.Healthy()) {
        try {
          c.AfterHealthy();
        } catch (const std::exception& e) {
          r.state.state = "failed";
          r.state.error = e.what();
          Publish();
          return false;
        }
        r.state.state = "healthy";
        r.next_health_check = Clock::now() + kHealthInterval;
        Publish();
        spdlog::info("{}: healthy after {:.1f} s", c.Name(),
                     std::chrono::duration<double>(Clock::now() - r.started).count());
        return true;
      }
      Sleep(std::chrono::milliseconds(250));
    }
    if (g_stop) return false;
    r.state.state = "failed";
    r.state.error = "not healthy after " + std::to_string(c.StartTimeout().count()) + " s; see " + c.LogFile().string();
    Publish();
    return false;
  }

  void Watch(Running& r) {
    Component& c = *r.component;
    bool died = false;
    if (auto code = TryReap(r.state.pid)) {
      spdlog::warn("{}: exited with code {}", c.Name(), *code);
      KillLeftoversOfGroup(r.state.pid);  // its workers must not outlive it (nor hold its ports)
      died = true;
    } else if (Clock::now() >= r.next_health_check) {
      r.next_health_check = Clock::now() + kHealthInterval;
      if (c.Healthy()) {
        r.unhealthy_since = {};
        if (r.state.state != "healthy") {
          r.state.state = "healthy";
          Publish();
        }
      } else {
        if (r.unhealthy_since == Clock::time_point{}) r.unhealthy_since = Clock::now();
        if (r.state.state != "unhealthy") {
          r.state.state = "unhealthy";
          Publish();
        }
        if (Clock::now() - r.unhealthy_since > kUnhealthyLimit) {
          spdlog::warn("{}: unhealthy for {} s, restarting", c.Name(), kUnhealthyLimit.count());
          Stop(r.state.pid, c.StopGrace());
          died = true;
        }
      }
    }
    if (!died) return;

    if (Clock::now() - r.started > kStableAfter) r.backoff = seconds(1);
    r.state.state = "restarting";
    r.state.restarts++;
    r.unhealthy_since = {};
    Publish();
    spdlog::info("{}: restarting in {} s", c.Name(), r.backoff.count());
    Sleep(r.backoff);
    r.backoff = std::min(r.backoff * 2, kMaxBackoff);
    if (g_stop) return;
    if (!StartAndWait(r)) {
      // Keep trying with backoff; a failed start leaves pid pointing at a dead process.
      r.state.state = "restarting";
      Publish();
    }
  }

  void StopAll() {
    state_.state = "stopping";
    Publish();
    for (auto it = running_.rbegin(); it != running_.rend(); ++it) {
      if (it->state.pid > 0 && IsAlive(it->state.pid)) {
        spdlog::info("{}: stopping pid {}", it->state.name, it->state.pid);
        if (Stop(it->state.pid, it->component->StopGrace())) {
          spdlog::warn("{}: did not stop in {} s, killed", it->state.name, it->component->StopGrace().count());
        }
      }
      it->state.state = "stopped";
      it->state.pid = 0;
      Publish();
    }
    std::error_code ec;
    std::filesystem::remove(StateFile(config_.RunDir()), ec);
  }

  const Config& config_;
  StackState state_;
  std::vector<Running> running_;
};

}  // namespace

int RunSupervisor(const Config& config, const PipelineStatusReader& pipeline) {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  ::signal(SIGHUP, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  std::filesystem::create_directories(config.RunDir());
  Supervisor supervisor(config);
  // The stack's summary endpoint, up from the start so a starting stack can be watched too.
  // A busy port is checked by `stack up`; here it costs the endpoint, not the stack.
  std::unique_ptr<MetricsServer> status;
  try {
    status = std::make_unique<MetricsServer>(
        config.stack.host, config.stack.status_port,
        std::map<std::string, MetricsServer::Route>{
            {"/status",
             {"application/json", [&config, &pipeline] { return ReadStatus(config, pipeline).doc.dump(2) + "\n"; }}},
            {"/metrics", {std::string(prometheus::kContentType), [&config, &pipeline] {
                            return StatusMetrics(ReadStatus(config, pipeline));
                          }}}});
    spdlog::info("status endpoint on http://{}:{}/status and /metrics", config.stack.host, config.stack.status_port);
  } catch (const Error& e) {
    spdlog::error("no status endpoint: {}", e.what());
  }
  return supervisor.Run();
}

}  // namespace clickflow::stack
