// What the stack renders for Airflow (stack/airflow_home.h), without starting anything.
#include "stack/airflow_home.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "clickflow_source_dir.h"
#include "common/template.h"

namespace clickflow::stack {
namespace {

namespace fs = std::filesystem;

class AirflowHomeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("clickflow-airflow-home-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    config_.data_dir = dir_;
    config_.resources_dir = CLICKFLOW_SOURCE_DIR;
    config_.stack.postgres_password = "p@ss%word";
    config_.stack.airflow_port = 18080;
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  Config config_;
};

TEST(AirflowHomeHelpers, DatabasePasswordsAreUrlEncodedAndPercentSignsEscapedForConfigparser) {
  EXPECT_EQ(UrlEncode("p@ss/w:rd"), "p%40ss%2Fw%3Ard");
  EXPECT_EQ(UrlEncode("plain-Name_1.~"), "plain-Name_1.~");
  EXPECT_EQ(EscapeConfigParser("a%40b"), "a%%40b");
}

TEST(AirflowHomeHelpers, TasksReachTheApiServerOnLoopbackWhenItListensEverywhere) {
  Config c;
  c.stack.airflow_port = 8081;
  EXPECT_EQ(AirflowLocalUrl(c), "http://127.0.0.1:8081");
  c.stack.host = "0.0.0.0";
  EXPECT_EQ(AirflowLocalUrl(c), "http://127.0.0.1:8081");
  c.stack.host = "10.1.2.3";
  EXPECT_EQ(AirflowLocalUrl(c), "http://10.1.2.3:8081");
}

TEST_F(AirflowHomeTest, RenderedConfigHoldsTheStackSettingsAndOnlyTheOwnerCanReadIt) {
  AirflowHome home(config_);
  home.Render();
  const std::string cfg = ReadFile(home.ConfigFile());
  EXPECT_NE(cfg.find("executor = LocalExecutor"), std::string::npos);
  EXPECT_NE(cfg.find("load_examples = False"), std::string::npos);
  EXPECT_NE(cfg.find("dags_folder = " + (fs::path(CLICKFLOW_SOURCE_DIR) / "airflow" / "dags").string()),
            std::string::npos);
  EXPECT_NE(cfg.find("sql_alchemy_conn = postgresql+psycopg2://clickflow:p%%40ss%%25word@127.0.0.1:5432/airflow"),
            std::string::npos)
      << cfg;
  EXPECT_NE(cfg.find("execution_api_server_url = http://127.0.0.1:18080/execution/"), std::string::npos);
  EXPECT_NE(cfg.find("port = 18080"), std::string::npos);
  EXPECT_NE(cfg.find("base_log_folder = " + (dir_ / "logs" / "airflow").string()), std::string::npos);
  EXPECT_EQ(cfg.find("{{"), std::string::npos);
  for (const char* file : {"airflow.cfg", "jwt_secret", "secret_key", "fernet_key", "passwords.json"}) {
    EXPECT_EQ(fs::status(home.Dir() / file).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write)
        << file;
  }
  EXPECT_EQ(ReadFile(home.Dir() / "passwords.json"), "{\"admin\":\"admin\"}\n");
}

TEST_F(AirflowHomeTest, SecretsAreGeneratedOnceAndKeptAcrossRenders) {
  AirflowHome home(config_);
  home.Render();
  const std::string jwt = ReadFile(home.Dir() / "jwt_secret");
  const std::string fernet = ReadFile(home.Dir() / "fernet_key");
  EXPECT_EQ(jwt.size(), 65u);     // 32 bytes in hex and a newline
  EXPECT_EQ(fernet.size(), 45u);  // 32 bytes in URL-safe base64 and a newline
  EXPECT_EQ(fernet.find_first_of("+/"), std::string::npos);
  home.Render();
  EXPECT_EQ(ReadFile(home.Dir() / "jwt_secret"), jwt);
  EXPECT_EQ(ReadFile(home.Dir() / "fernet_key"), fernet);
  EXPECT_NE(ReadFile(home.ConfigFile()).find("jwt_secret = " + jwt.substr(0, 64)), std::string::npos);
}

TEST_F(AirflowHomeTest, TasksGetTheClickflowBinaryOnPathAndTheStacksConfig) {
  AirflowHome home(config_);
  auto env = home.Env();
  EXPECT_EQ(env.at("AIRFLOW_HOME"), (dir_ / "airflow").string());
  EXPECT_EQ(env.at("PATH").rfind(fs::read_symlink("/proc/self/exe").parent_path().string() + ":", 0), 0u);
  // No config file: tasks get the effective config, written for them.
  EXPECT_EQ(env.at("CLICKFLOW_CONFIG"), (dir_ / "airflow" / "clickflow.yaml").string());
  EXPECT_NE(ReadFile(env.at("CLICKFLOW_CONFIG")).find("airflow_port: 18080"), std::string::npos);
}

}  // namespace
}  // namespace clickflow::stack
