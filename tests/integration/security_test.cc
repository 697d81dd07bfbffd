// Security promises of the local stack (docs/security.md) checked on the running stack of the
// suite (which runs every server, with non-default passwords set by the fixture):
// - every listening socket of every stack process is on loopback;
// - files holding secrets are mode 0600;
// - no password or generated secret appears in any log or in `stack status`.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/template.h"
#include "stack/state.h"
#include "test_env.h"

namespace clickflow {
namespace {

namespace fs = std::filesystem;
using testing::StackConfig;

// Socket inodes of a process and its descendants (from /proc/<pid>/fd -> "socket:[N]").
std::set<std::string> SocketInodes(pid_t root) {
  std::map<pid_t, std::vector<pid_t>> children;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line) || line.rfind(')') == std::string::npos) continue;
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string state;
    pid_t parent = 0;
    if (rest >> state >> parent) children[parent].push_back(std::stoi(name));
  }
  std::set<std::string> inodes;
  std::vector<pid_t> todo = {root};
  while (!todo.empty()) {
    const pid_t pid = todo.back();
    todo.pop_back();
    for (pid_t child : children[pid]) todo.push_back(child);
    std::error_code ec;
    for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
      std::error_code link_ec;
      const std::string target = fs::read_symlink(fd.path(), link_ec).string();
      if (target.rfind("socket:[", 0) == 0) inodes.insert(target.substr(8, target.size() - 9));
    }
  }
  return inodes;
}

struct Listener {
  std::string address;  // hex as in /proc/net/tcp
  int port = 0;
  std::string inode;
};

// TCP sockets in LISTEN state (st 0A) from /proc/net/tcp and tcp6.
std::vector<Listener> Listeners() {
  std::vector<Listener> out;
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, st, queues, timer, retr, uid, timeout, inode;
      fields >> slot >> local >> remote >> st >> queues >> timer >> retr >> uid >> timeout >> inode;
      if (st != "0A") continue;
      const auto colon = local.find(':');
      out.push_back({local.substr(0, colon), std::stoi(local.substr(colon + 1), nullptr, 16), inode});
    }
  }
  return out;
}

bool IsLoopback(const std::string& hex) {
  if (hex.size() == 8) return hex.substr(6, 2) == "7F";  // 127.x.x.x, little-endian
  // ::1, or ::ffff:127.x.x.x (IPv4-mapped), in /proc's 4-word little-endian form.
  return hex == "00000000000000000000000001000000" ||
         (hex.substr(0, 16) == "0000000000000000" && hex.substr(16, 8) == "FFFF0000" && hex.substr(30, 2) == "7F");
}

std::vector<stack::ComponentState> Components() {
  auto state = stack::ReadState(StackConfig().RunDir());
  return state ? state->components : std::vector<stack::ComponentState>{};
}

TEST(Security, EveryListeningSocketOfTheStackIsOnLoopback) {
  const auto components = Components();
  ASSERT_GE(components.size(), 3u);
  const auto listeners = Listeners();
  for (const auto& c : components) {
    const auto inodes = SocketInodes(c.pid);
    int found = 0;
    for (const auto& l : listeners) {
      if (!inodes.count(l.inode)) continue;
      ++found;
      EXPECT_TRUE(IsLoopback(l.address)) << c.name << " listens on " << l.address << ":" << l.port;
    }
    // Each server with ports really listens (so the check above saw something).
    if (!c.ports.empty()) {
      EXPECT_GE(found, 1) << c.name;
    }
  }
}

TEST(Security, FilesHoldingSecretsAreReadableByTheirOwnerOnly) {
  const fs::path data = StackConfig().data_dir;
  std::vector<fs::path> files = {StackConfig().source};
  for (const char* f : {"airflow/airflow.cfg", "airflow/passwords.json", "airflow/jwt_secret", "airflow/secret_key",
                        "airflow/fernet_key", "superset/settings.json", "superset/secret_key"}) {
    files.push_back(data / f);
  }
  // ClickHouse's rendered users file (password hashes) wherever the stack put it.
  for (const auto& entry : fs::recursive_directory_iterator(data / "clickhouse")) {
    if (entry.path().filename() == "users.xml") files.push_back(entry.path());
  }
  for (const auto& f : files) {
    ASSERT_TRUE(fs::exists(f)) << f;
    const auto perms = fs::status(f).permissions() & fs::perms::all;
    EXPECT_EQ(perms & (fs::perms::group_all | fs::perms::others_all), fs::perms::none) << f;
  }
  EXPECT_FALSE(fs::exists(data / "superset" / "bundle")) << "the rendered bundle holds a password";
}

TEST(Security, NoPasswordOrSecretAppearsInLogsOrStatus) {
  const Config& c = StackConfig();
  std::map<std::string, std::string> secrets = {
      {"clickhouse.password", c.clickhouse.password},
      {"clickhouse.readonly_password", c.clickhouse.readonly_password},
      {"stack.postgres_password", c.stack.postgres_password},
      {"stack.airflow_password", c.stack.airflow_password},
      {"stack.superset_password", c.stack.superset_password},
  };
  for (const char* f : {"airflow/jwt_secret", "airflow/secret_key", "airflow/fernet_key", "superset/secret_key"}) {
    std::string value = ReadFile(c.data_dir / f);
    while (!value.empty() && value.back() == '\n') value.pop_back();
    secrets[f] = value;
  }
  for (const auto& [name, value] : secrets) ASSERT_GE(value.size(), 8u) << name << " too short to search for";

  std::vector<std::pair<std::string, std::string>> texts;
  for (const auto& entry : fs::recursive_directory_iterator(c.LogDir())) {
    if (entry.is_regular_file()) texts.emplace_back(entry.path().string(), ReadFile(entry.path()));
  }
  texts.emplace_back("stack status", testing::Clickflow({"stack", "status"}).output);
  texts.emplace_back("stack status --json", testing::Clickflow({"stack", "status", "--json"}).output);
  ASSERT_GT(texts.size(), 5u);
  for (const auto& [where, text] : texts) {
    for (const auto& [name, value] : secrets) {
      EXPECT_EQ(text.find(value), std::string::npos) << name << " appears in " << where;
    }
  }
}

}  // namespace
}  // namespace clickflow
