#pragma once
// Airflow's home under <data_dir>/airflow, shared by the four Airflow processes of the stack
// (api-server, scheduler, dag-processor, triggerer): airflow.cfg rendered from
// airflow/airflow.cfg.template, the secrets generated once per data dir, the environment the
// processes run with, and the one-time `airflow db migrate`.
#include <filesystem>
#include <map>
#include <string>

#include "common/config.h"

namespace clickflow::stack {

struct AirflowHome {
  explicit AirflowHome(const Config& config) : config_(config) {}

  std::filesystem::path Dir() const { return config_.data_dir / "airflow"; }
  std::filesystem::path Venv() const { return config_.DepsDir() / "airflow-venv"; }
  std::filesystem::path Airflow() const { return Venv() / "bin" / "airflow"; }
  std::filesystem::path ConfigFile() const { return Dir() / "airflow.cfg"; }
  std::filesystem::path LogDir() const { return config_.LogDir() / "airflow"; }
  // `source <data_dir>/airflow/env.sh` gives a shell the stack's airflow CLI (docs, run.sh).
  std::filesystem::path EnvScript() const { return Dir() / "env.sh"; }

  // Throws Error with the install command when the virtualenv is missing.
  void CheckInstalled() const;

  // Writes airflow.cfg, the passwords file and env.sh; creates the secrets on first use.
  // Idempotent, run before each start so a config change reaches Airflow on restart.
  void Render() const;

  // `airflow db migrate` unless already done for this virtualenv (a stamp holding the lock
  // hash of the installed Airflow, so an upgrade migrates again). Takes a minute cold.
  void MigrateOnce() const;

  // What every Airflow process (and, through it, each task) runs with: AIRFLOW_HOME, the
  // clickflow config the stack runs with, and PATH with the clickflow binary first.
  std::map<std::string, std::string> Env() const;

  // The clickflow config path tasks use: the file the stack was started with, or (defaults
  // only) the effective config written to <data_dir>/airflow/clickflow.yaml.
  std::filesystem::path ClickflowConfigPath() const;

 private:
  std::string Secret(const std::string& file_name, bool fernet) const;

  const Config& config_;
};

// Percent-encodes a user name or password for a database URL.
std::string UrlEncode(const std::string& text);

// configparser reads % as interpolation: a literal % must be written %%.
std::string EscapeConfigParser(const std::string& text);

// Where tasks reach the api-server: its host, or loopback when it listens on every address.
std::string AirflowLocalUrl(const Config& config);

}  // namespace clickflow::stack
