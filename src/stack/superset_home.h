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
  void RunSuperset(const std::vector<std::string>& args, const std::string& what) const;
  std::string InstalledLock() const;

  const Config& config_;
};

// Where the stack's Superset answers: its host, or loopback when it listens on every address.
std::string SupersetLocalUrl(const Config& config);

}  // namespace clickflow::stack
