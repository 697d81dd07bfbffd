#pragma once
// Superset's home under <data_dir>/superset: the settings superset/superset_config.py reads
// (secret key generated once per data dir, metadata URL), the environment the web server and
// the CLI run with, the one-time metadata setup (db upgrade, init, the admin login) and the
// import of the dashboards bundle from superset/assets/.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/config.h"

namespace clickflow::stack {

// One run of the superset CLI: its arguments after `superset`, what it adds to the environment,
// and what it does (for the log and errors).
struct SupersetCall {
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  std::string what;
};

// The runs that create the admin login and set its password. The password travels in the
// environment, never in argv: /proc/<pid>/cmdline is readable by every local user, environ by the
// owner only. Superset's CLI is a Flask group, so click reads an option missing from argv from
// FLASK_<GROUP>_<COMMAND>_<OPTION> (docs/security.md).
std::vector<SupersetCall> AdminLoginCalls(const std::string& password);

class SupersetHome {
 public:
  explicit SupersetHome(const Config& config) : config_(config) {}

  std::filesystem::path Dir() const { return config_.data_dir / "superset"; }
  std::filesystem::path Venv() const { return config_.DepsDir() / "superset-venv"; }
  std::filesystem::path Bin(const std::string& name) const { return Venv() / "bin" / name; }
  std::filesystem::path SettingsFile() const { return Dir() / "settings.json"; }
  std::filesystem::path AssetsDir() const { return config_.Resource("superset/assets"); }
  // `source <data_dir>/superset/env.sh` gives a shell the stack's superset CLI (docs, tests).
  std::filesystem::path EnvScript() const { return Dir() / "env.sh"; }

  // Throws Error with the install command when the virtualenv or the assets are missing.
  void CheckInstalled() const;

  // Writes settings.json (0600) and env.sh; creates the secret key on first use.
  void Render() const;

  // `superset db upgrade` and `superset init` once per installed lock (an upgrade runs them
  // again), and the admin login created or its password reset when stack.superset_password
  // changed. Takes a minute or two cold, a no-op afterwards.
  void InitOnce() const;

  // Imports superset/assets/ (database through the read-only ClickHouse user, datasets,
  // charts, dashboards) through the assets API of the Superset at `url`, unless this exact
  // bundle was imported there already (or `force`). Objects are matched by uuid and
  // overwritten, so a changed bundle (or a changed read-only password) replaces them and never
  // duplicates anything. Returns false when it had nothing to do.
  bool ImportAssets(const std::string& url, bool force = false) const;

  std::map<std::string, std::string> Env() const;

  // The values substituted into superset/assets/databases/*.yaml.
  std::map<std::string, std::string> BundleValues() const;

 private:
  // Runs the superset CLI; throws Error with the tail of its output when it fails.
  void RunSuperset(const SupersetCall& call) const;
  std::string InstalledLock() const;

  const Config& config_;
};

// Where the stack's Superset answers: its host, or loopback when it listens on every address.
std::string SupersetLocalUrl(const Config& config);

}  // namespace clickflow::stack
