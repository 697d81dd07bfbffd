#include "stack/state.h"

#include <nlohmann/json.hpp>

#include "common/template.h"

namespace clickflow::stack {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path StateFile(const fs::path& run_dir) { return run_dir / "stack.json"; }

void WriteState(const fs::path& run_dir, const StackState& s) {
  json doc = {
      {"supervisor_pid", s.supervisor_pid}, {"state", s.state}, {"error", s.error}, {"components", json::array()}};
  for (const auto& c : s.components) {
    doc["components"].push_back({{"name", c.name},
                                 {"pid", c.pid},
                                 {"state", c.state},
                                 {"restarts", c.restarts},
                                 {"started_at", c.started_at},
                                 {"ports", c.ports},
                                 {"error", c.error}});
  }
  WriteFile(StateFile(run_dir), doc.dump(2) + "\n");
}

std::optional<StackState> ReadState(const fs::path& run_dir) {
  if (!fs::exists(StateFile(run_dir))) return std::nullopt;
  try {
    json doc = json::parse(ReadFile(StateFile(run_dir)));
    StackState s;
    s.supervisor_pid = doc.at("supervisor_pid").get<pid_t>();
    s.state = doc.at("state").get<std::string>();
    s.error = doc.value("error", "");
    for (const auto& c : doc.at("components")) {
      ComponentState cs;
      cs.name = c.at("name").get<std::string>();
      cs.pid = c.at("pid").get<pid_t>();
      cs.state = c.at("state").get<std::string>();
      cs.restarts = c.value("restarts", 0);
      cs.started_at = c.value("started_at", 0L);
      cs.ports = c.value("ports", std::vector<int>{});
      cs.error = c.value("error", "");
      s.components.push_back(cs);
    }
    return s;
  } catch (const std::exception&) {
    return std::nullopt;  // a torn or foreign file: treat as no state
  }
}

}  // namespace clickflow::stack
