// Default passwords are for loopback only (docs/design.md#security-rules): off loopback the stack refuses to
// start until every one of them is changed, and says which key to set.
#include <gtest/gtest.h>

#include "common/error.h"
#include "stack/stack_manager.h"

namespace clickflow::stack {
namespace {

std::string Refusal(const Config& config) {
  try {
    CheckSecureBinding(config);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

Config Exposed() {
  Config c;
  c.stack.host = "0.0.0.0";
  return c;
}

Config ExposedWithPasswords() {
  Config c = Exposed();
  c.clickhouse.password = "ch-secret";
  c.clickhouse.readonly_password = "ro-secret";
  c.stack.postgres_password = "pg-secret";
  c.stack.airflow_password = "af-secret";
  c.stack.superset_password = "ss-secret";
  return c;
}

TEST(SecureBinding, DefaultsAreFineOnLoopback) {
  EXPECT_EQ(Refusal(Config{}), "");
  Config c;
  c.stack.host = "::1";
  EXPECT_EQ(Refusal(c), "");
}

TEST(SecureBinding, EachDefaultPasswordIsRefusedOffLoopbackNamingItsKey) {
  EXPECT_NE(Refusal(Exposed()).find("clickhouse.password"), std::string::npos);
  EXPECT_EQ(Refusal(ExposedWithPasswords()), "");

  Config c = ExposedWithPasswords();
  c.clickhouse.readonly_password = "dashboards";
  EXPECT_NE(Refusal(c).find("clickhouse.readonly_password"), std::string::npos);
  c = ExposedWithPasswords();
  c.stack.postgres_password = "clickflow";
  EXPECT_NE(Refusal(c).find("stack.postgres_password"), std::string::npos);
  c = ExposedWithPasswords();
  c.stack.airflow_password = "admin";
  EXPECT_NE(Refusal(c).find("stack.airflow_password"), std::string::npos);
  c = ExposedWithPasswords();
  c.stack.superset_password = "admin";
  EXPECT_NE(Refusal(c).find("stack.superset_password"), std::string::npos);
  // A server that does not run needs no password.
  c.stack.superset = false;
  EXPECT_EQ(Refusal(c), "");
}

TEST(SecureBinding, AKafkaListenerOffLoopbackCountsToo) {
  Config c;
  c.kafka.bootstrap_servers = "10.0.0.5:9092";
  EXPECT_NE(Refusal(c), "");
}

}  // namespace
}  // namespace clickflow::stack
