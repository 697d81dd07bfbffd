#pragma once
// A server the local stack runs. The supervisor calls, in order: CheckInstalled() and ports
// (before anything starts, so errors reach the user's terminal), Prepare() (render configs,
// one-time init such as initdb), Command() (spawned in its own process group, output to
// <data_dir>/logs/<name>.log), Healthy() until true, then AfterHealthy() (idempotent setup
// such as creating databases). A component that dies is restarted by the supervisor.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/process.h"

namespace clickflow::stack {

class Component {
 public:
  explicit Component(const Config& config) : config_(config) {}
  virtual ~Component() = default;

  virtual std::string Name() const = 0;
  // Listeners this server opens: checked free before the first start, shown by `status`.
  virtual std::vector<int> Ports() const = 0;
  // Throws Error naming what is missing and how to install it.
  virtual void CheckInstalled() const = 0;
  virtual void Prepare() = 0;
  virtual SpawnOptions Command() const = 0;
  virtual bool Healthy() const = 0;
  virtual void AfterHealthy() {}
  virtual std::chrono::seconds StartTimeout() const { return std::chrono::seconds(90); }
  // How long a SIGTERM may take before SIGKILL.
  virtual std::chrono::seconds StopGrace() const { return std::chrono::seconds(30); }

  std::filesystem::path LogFile() const { return config_.LogDir() / (Name() + ".log"); }
  std::filesystem::path WorkDir() const { return config_.data_dir / Name(); }

 protected:
  const Config& config_;
};

// The components of the stack in start order (stop order is the reverse).
std::vector<std::unique_ptr<Component>> MakeComponents(const Config& config);

// Services run as their own system user when we are root (PostgreSQL refuses root).
std::string ServiceUser(const std::string& wanted);

// Hands `path` to `user` (no-op when `user` is empty).
void ChownTo(const std::filesystem::path& path, const std::string& user);

// Creates `dir` (and parents) and, when running as root with a service user, hands it over.
void PrepareOwnedDir(const std::filesystem::path& dir, const std::string& user);

}  // namespace clickflow::stack
