#include "stack/clickflow_service.h"

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "common/http_client.h"
#include "common/net.h"
#include "common/template.h"

namespace clickflow::stack {

namespace fs = std::filesystem;

fs::path ServiceConfigPath(const Config& config) {
  if (config.source != "defaults" && fs::exists(config.source)) return fs::absolute(config.source);
  fs::path rendered = config.RunDir() / "clickflow.yaml";
  WriteFile(rendered, ToYaml(config), fs::perms(0600));
  return rendered;
}

std::vector<int> ClickflowService::Ports() const {
  if (kind_ == Kind::kLoader) return {config_.stack.metrics_port};
  return {};
}

std::vector<std::string> ClickflowService::Clickflow(const std::vector<std::string>& args) const {
  // The supervisor is the clickflow binary: run the same one.
  std::vector<std::string> argv = {fs::read_symlink("/proc/self/exe").string(), "--config",
                                   ServiceConfigPath(config_).string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

void ClickflowService::Prepare() {
  if (kind_ != Kind::kLoader) return;
  for (const std::vector<std::string>& step :
       {std::vector<std::string>{"migrate"}, std::vector<std::string>{"topics", "create"}}) {
    SpawnOptions s;
    s.argv = Clickflow(step);
    CommandResult r = RunCommand(s);
    if (r.exit_code != 0) throw Error("loader: `clickflow " + step[0] + "` failed before start:\n" + r.output);
  }
  spdlog::info("loader: schema and topics in place");
}

SpawnOptions ClickflowService::Command() const {
  SpawnOptions s;
  s.argv = kind_ == Kind::kLoader ? Clickflow({"load", "--follow"}) : Clickflow({"dwh", "watch"});
  s.log_file = LogFile();
  s.working_dir = config_.data_dir;
  return s;
}

bool ClickflowService::Healthy() const {
  // The micro-builder has no listener; being alive (checked by the supervisor) is its health.
  if (kind_ != Kind::kLoader) return true;
  return HttpGet(LocalUrl(config_.stack.host, config_.stack.metrics_port) + "/metrics", std::chrono::milliseconds(3000))
      .has_value();
}

}  // namespace clickflow::stack
