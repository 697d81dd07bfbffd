#include "common/process.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "common/error.h"

extern char** environ;

namespace clickflow {
namespace {

namespace fs = std::filesystem;

struct UserIds {
  uid_t uid;
  gid_t gid;
  std::string home;
};

UserIds LookupUser(const std::string& name) {
  passwd* pw = ::getpwnam(name.c_str());
  if (!pw) throw Error("no such system user: " + name);
  return {pw->pw_uid, pw->pw_gid, pw->pw_dir};
}

std::vector<std::string> BuildEnv(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> merged;
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    auto eq = entry.find('=');
    if (eq != std::string::npos) merged[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : extra) merged[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : merged) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Forks and execs; `output_fd` (if >= 0) becomes the child's stdout and stderr.
// Exec failures come back through a close-on-exec pipe, so the caller sees a clear error.
pid_t ForkExec(const SpawnOptions& options, int output_fd) {
  if (options.argv.empty()) throw Error("empty command line");
  const std::string exe = FindExecutable(options.argv[0]);
  if (exe.empty()) throw Error("program not found: " + options.argv[0]);
  std::optional<UserIds> user;
  if (!options.run_as_user.empty() && ::geteuid() == 0) user = LookupUser(options.run_as_user);

  std::vector<std::string> args = options.argv;
  std::vector<std::string> env = BuildEnv(options.env);
  if (user) env.push_back("HOME=" + user->home);
  std::vector<char*> argv = CStrings(args);
  std::vector<char*> envp = CStrings(env);

  int status_pipe[2];
  if (::pipe2(status_pipe, O_CLOEXEC) != 0) throw Error("pipe2 failed");
  pid_t pid = ::fork();
  if (pid < 0) throw Error(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(status_pipe[0]);
    auto die = [&](const char* step) {
      int err = errno;
      std::string msg = std::string(step) + ": " + std::strerror(err);
      (void)!::write(status_pipe[1], msg.data(), msg.size());
      ::_exit(127);
    };
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (options.new_session && ::setsid() < 0) die("setsid");
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    if (output_fd >= 0) {
      ::dup2(output_fd, STDOUT_FILENO);
      ::dup2(output_fd, STDERR_FILENO);
    }
    if (!options.working_dir.empty() && ::chdir(options.working_dir.c_str()) != 0) die("chdir");
    if (user) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(user->gid) != 0 || ::setuid(user->uid) != 0) {
        die("switching user");
      }
    }
    ::execve(exe.c_str(), argv.data(), envp.data());
    die(("exec " + exe).c_str());
  }
  ::close(status_pipe[1]);
  char buf[512];
  ssize_t n = ::read(status_pipe[0], buf, sizeof buf);
  ::close(status_pipe[0]);
  if (n > 0) {
    ::waitpid(pid, nullptr, 0);
    throw Error("cannot start " + options.argv[0] + ": " + std::string(buf, n));
  }
  return pid;
}

}  // namespace

std::string FindExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    fs::path candidate = fs::path(dir.empty() ? "." : dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

pid_t Spawn(const SpawnOptions& options) {
  int fd = -1;
  if (!options.log_file.empty()) {
    fs::create_directories(options.log_file.parent_path());
    fd = ::open(options.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) throw Error("cannot open log file " + options.log_file.string());
  }
  pid_t pid;
  try {
    pid = ForkExec(options, fd);
  } catch (...) {
    if (fd >= 0) ::close(fd);
    throw;
  }
  if (fd >= 0) ::close(fd);
  return pid;
}

CommandResult RunCommand(const SpawnOptions& options) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw Error("pipe2 failed");
  SpawnOptions opts = options;
  opts.new_session = false;
  pid_t pid;
  try {
    pid = ForkExec(opts, pipe_fds[1]);
  } catch (...) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    throw;
  }
  ::close(pipe_fds[1]);
  CommandResult result;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) result.output.append(buf, n);
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

bool IsAlive(pid_t pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0) return errno == EPERM;
  // A zombie still answers kill(0); treat it as gone.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  auto close_paren = line.rfind(')');
  return close_paren == std::string::npos || line.size() < close_paren + 2 || line[close_paren + 2] != 'Z';
}

std::optional<int> TryReap(pid_t pid) {
  int status = 0;
  pid_t r = ::waitpid(pid, &status, WNOHANG);
  if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (r < 0 && errno == ECHILD) return IsAlive(pid) ? std::nullopt : std::optional<int>(-1);
  return std::nullopt;
}

void KillLeftoversOfGroup(pid_t pgid) {
  // ESRCH when the group is empty; the kernel never reuses a pid while it names a live group.
  if (pgid > 1) ::kill(-pgid, SIGKILL);
}

bool Stop(pid_t pid, std::chrono::milliseconds grace) {
  if (!IsAlive(pid)) {
    TryReap(pid);
    KillLeftoversOfGroup(pid);
    return false;
  }
  // Signal the whole group (our children are session leaders), falling back to the pid.
  if (::kill(-pid, SIGTERM) != 0) ::kill(pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    TryReap(pid);
    if (!IsAlive(pid)) {
      KillLeftoversOfGroup(pid);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (::kill(-pid, SIGKILL) != 0) ::kill(pid, SIGKILL);
  for (int i = 0; i < 100 && IsAlive(pid); ++i) {
    TryReap(pid);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

long ResidentBytes(pid_t pid) {
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  long size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * ::sysconf(_SC_PAGESIZE);
}

long TreeResidentBytes(pid_t pid) {
  // Parent of every process, from /proc/<pid>/stat (field 4, after the parenthesised name).
  std::multimap<pid_t, pid_t> children;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const auto close_paren = line.rfind(')');
    if (close_paren == std::string::npos) continue;
    std::istringstream rest(line.substr(close_paren + 2));
    std::string state;
    pid_t parent = 0;
    if (rest >> state >> parent) children.emplace(parent, static_cast<pid_t>(std::stol(name)));
  }
  long total = 0;
  std::vector<pid_t> todo = {pid};
  while (!todo.empty()) {
    const pid_t p = todo.back();
    todo.pop_back();
    total += ResidentBytes(p);
    auto [first, last] = children.equal_range(p);
    for (auto it = first; it != last; ++it) todo.push_back(it->second);
  }
  return total;
}

long UptimeSeconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return 0;
  auto close_paren = line.rfind(')');
  if (close_paren == std::string::npos) return 0;
  std::istringstream rest(line.substr(close_paren + 2));
  std::string field;
  // Field 22 (starttime): the stream starts at field 3, so skip fields 3..21.
  for (int i = 0; i < 19 && rest >> field; ++i) {
  }
  long long start_ticks = 0;
  if (!(rest >> start_ticks)) return 0;
  std::ifstream uptime_file("/proc/uptime");
  double uptime = 0;
  uptime_file >> uptime;
  return static_cast<long>(uptime - static_cast<double>(start_ticks) / ::sysconf(_SC_CLK_TCK));
}

}  // namespace clickflow
