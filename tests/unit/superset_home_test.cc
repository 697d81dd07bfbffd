// What the stack renders for Superset (stack/superset_home.h), without starting anything.
#include "stack/superset_home.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "clickflow_source_dir.h"
#include "common/template.h"

namespace clickflow::stack {
namespace {

namespace fs = std::filesystem;

class SupersetHomeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("clickflow-superset-home-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    config_.data_dir = dir_;
    config_.resources_dir = CLICKFLOW_SOURCE_DIR;
    config_.stack.postgres_password = "p@ss%word";
    config_.stack.postgres_port = 15432;
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  Config config_;
};

TEST_F(SupersetHomeTest, SettingsHoldAGeneratedSecretKeyAndTheMetadataUrlReadableOnlyByTheOwner) {
  SupersetHome home(config_);
  home.Render();
  const auto settings = nlohmann::json::parse(ReadFile(home.SettingsFile()));
  const std::string key = settings.at("secret_key");
  EXPECT_EQ(key.size(), 64u);  // 32 random bytes in hex
  EXPECT_NE(key, "CHANGE_ME_TO_A_COMPLEX_RANDOM_SECRET");
  EXPECT_EQ(settings.at("metadata_uri"), "postgresql+psycopg2://clickflow:p%40ss%25word@127.0.0.1:15432/superset");
  for (const fs::path& file : {home.SettingsFile(), home.Dir() / "secret_key"}) {
    EXPECT_EQ(fs::status(file).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write) << file;
  }
  // Kept across renders: sessions and encrypted database passwords depend on it.
  home.Render();
  EXPECT_EQ(nlohmann::json::parse(ReadFile(home.SettingsFile())).at("secret_key"), key);
  // Another data dir, another key.
  Config other = config_;
  other.data_dir = dir_ / "other";
  SupersetHome(other).Render();
  EXPECT_NE(nlohmann::json::parse(ReadFile(SupersetHome(other).SettingsFile())).at("secret_key"), key);
}

TEST_F(SupersetHomeTest, TheEnvironmentPointsSupersetAtOurConfigAndSettings) {
  SupersetHome home(config_);
  const auto env = home.Env();
  EXPECT_EQ(env.at("SUPERSET_CONFIG_PATH"),
            (fs::path(CLICKFLOW_SOURCE_DIR) / "superset" / "superset_config.py").string());
  EXPECT_EQ(env.at("CLICKFLOW_SUPERSET_SETTINGS"), home.SettingsFile().string());
  EXPECT_EQ(env.at("PATH").rfind(home.Venv().string() + "/bin:", 0), 0u);
  // The env script must not leak the secrets, only where they are.
  home.Render();
  const std::string script = ReadFile(home.EnvScript());
  EXPECT_EQ(script.find(ReadFile(home.Dir() / "secret_key").substr(0, 64)), std::string::npos);
  EXPECT_EQ(script.find("p@ss"), std::string::npos);
}

TEST_F(SupersetHomeTest, TheBundleReadsClickHouseAsTheReadOnlyUserWithItsPasswordUrlEncoded) {
  config_.clickhouse.url = "http://10.0.0.7:18123";
  config_.clickhouse.readonly_user = "dash";
  config_.clickhouse.readonly_password = "r/o:pw";
  config_.stack.clickhouse_tcp_port = 19000;
  const auto values = SupersetHome(config_).BundleValues();
  EXPECT_EQ(values.at("CLICKHOUSE_READONLY_USER"), "dash");
  EXPECT_EQ(values.at("CLICKHOUSE_READONLY_PASSWORD"), "r%2Fo%3Apw");
  EXPECT_EQ(values.at("CLICKHOUSE_HOST"), "10.0.0.7");
  EXPECT_EQ(values.at("CLICKHOUSE_TCP_PORT"), "19000");
  EXPECT_EQ(values.at("CLICKHOUSE_DATABASE"), "analytics");
  // Every placeholder of the shipped database file has a value.
  const fs::path databases = fs::path(CLICKFLOW_SOURCE_DIR) / "superset" / "assets" / "databases";
  for (const auto& entry : fs::directory_iterator(databases)) {
    const std::string rendered = RenderTemplate(ReadFile(entry.path()), values, entry.path().string());
    EXPECT_NE(rendered.find("clickhouse+native://dash:r%2Fo%3Apw@10.0.0.7:19000/analytics"), std::string::npos)
        << rendered;
  }
}

TEST(SupersetHomeHelpers, TheAdminPasswordReachesTheCliThroughTheEnvironmentNeverArgv) {
  const std::string password = "adm1n-Secret";
  const auto calls = AdminLoginCalls(password);
  ASSERT_EQ(calls.size(), 2u);
  for (const SupersetCall& call : calls) {
    SCOPED_TRACE(call.what);
    for (const std::string& arg : call.args) EXPECT_EQ(arg.find(password), std::string::npos) << arg;
    // The command's own option in click's FLASK_<GROUP>_<COMMAND>_<OPTION> form.
    ASSERT_GE(call.args.size(), 2u);
    std::string command = call.args[1];
    std::replace(command.begin(), command.end(), '-', '_');
    std::transform(command.begin(), command.end(), command.begin(), ::toupper);
    EXPECT_EQ(call.env.at("FLASK_FAB_" + command + "_PASSWORD"), password);
  }
}

TEST(SupersetHomeHelpers, LocalUrlsUseLoopbackForWildcardListenersAndBracketIpv6) {
  Config c;
  c.stack.superset_port = 8089;
  EXPECT_EQ(SupersetLocalUrl(c), "http://127.0.0.1:8089");
  c.stack.host = "::";
  EXPECT_EQ(SupersetLocalUrl(c), "http://127.0.0.1:8089");
  c.stack.host = "::1";
  EXPECT_EQ(SupersetLocalUrl(c), "http://[::1]:8089");
}

}  // namespace
}  // namespace clickflow::stack
