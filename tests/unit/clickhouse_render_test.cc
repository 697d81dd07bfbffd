// Pure parts of the ClickHouse layer: migration rendering per server version, statement
// splitting, server error parsing, quoting and version parsing. No server needed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "clickflow_source_dir.h"
#include "clickhouse/client.h"
#include "clickhouse/migrations.h"
#include "clickhouse/server_version.h"
#include "common/error.h"
#include "common/sha256.h"

namespace clickflow {
namespace {

const ServerVersion kDebian{18, 16, 1};
const ServerVersion kCurrent{24, 8, 4};

RenderContext Context(ServerVersion server) {
  Config config;
  config.clickhouse.database = "analytics";
  return MakeRenderContext(config, server);
}

std::string RenderError(std::string_view text, RenderContext context) {
  try {
    RenderMigration(text, context);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ServerVersionTest, ParsesReleaseStrings) {
  EXPECT_EQ(ParseServerVersion("18.16.1"), (ServerVersion{18, 16, 1}));
  EXPECT_EQ(ParseServerVersion("24.8.4.13\n"), (ServerVersion{24, 8, 4}));
  EXPECT_EQ(ParseServerVersion("23.3.1.2823 (official build)"), (ServerVersion{23, 3, 1}));
  EXPECT_EQ(ParseServerVersion("19.6.2").ToString(), "19.6.2");
}

TEST(ServerVersionTest, RejectsGarbage) {
  EXPECT_THROW(ParseServerVersion(""), Error);
  EXPECT_THROW(ParseServerVersion("18.16"), Error);
  EXPECT_THROW(ParseServerVersion("Code: 194, e.displayText() = ..."), Error);
}

TEST(ServerVersionTest, FeaturesFollowTheReleaseThatAddedThem) {
  EXPECT_FALSE(kDebian.SupportsTtl());
  EXPECT_FALSE((ServerVersion{19, 5, 9}).SupportsTtl());
  EXPECT_TRUE((ServerVersion{19, 6, 0}).SupportsTtl());
  EXPECT_TRUE(kCurrent.SupportsTtl());
  EXPECT_FALSE(kDebian.SupportsMultipleJoins());
  EXPECT_TRUE(kCurrent.SupportsMultipleJoins());
  EXPECT_FALSE(kDebian.SupportsDateTime64());
  EXPECT_TRUE(kCurrent.SupportsDateTime64());
  EXPECT_FALSE(kDebian.SupportsInsertDeduplication());
  EXPECT_FALSE((ServerVersion{22, 1, 9}).SupportsInsertDeduplication());
  EXPECT_TRUE((ServerVersion{22, 2, 0}).SupportsInsertDeduplication());
  EXPECT_TRUE(kCurrent.SupportsInsertDeduplication());
}

TEST(RenderMigrationTest, TtlClauseOnlyWhereTheServerHasTtl) {
  const std::string ddl =
      "CREATE TABLE {db}.t (d Date) ENGINE = MergeTree ORDER BY d\n"
      "{ttl:d + INTERVAL {fact_ttl_days} DAY}";
  EXPECT_EQ(RenderMigration(ddl, Context(kDebian)),
            "CREATE TABLE analytics.t (d Date) ENGINE = MergeTree ORDER BY d\n");
  EXPECT_EQ(RenderMigration(ddl, Context(kCurrent)),
            "CREATE TABLE analytics.t (d Date) ENGINE = MergeTree ORDER BY d\n"
            "TTL d + INTERVAL 365 DAY");
}

TEST(RenderMigrationTest, DedupStatementOnlyWhereTheServerDeduplicatesInserts) {
  const std::string ddl =
      "{dedup:ALTER TABLE {db}.t MODIFY SETTING non_replicated_deduplication_window = {dedup_window}}";
  EXPECT_EQ(RenderMigration(ddl, Context(kDebian)), "");
  EXPECT_EQ(RenderMigration(ddl, Context(kCurrent)),
            "ALTER TABLE analytics.t MODIFY SETTING non_replicated_deduplication_window = " +
                std::to_string(kInsertDeduplicationWindow));
}

TEST(RenderMigrationTest, SubstitutesDatabaseAndConfigVariables) {
  Config config;
  config.clickhouse.database = "web_2";
  config.pipeline.staging_ttl_days = 30;
  RenderContext context = MakeRenderContext(config, kCurrent);
  EXPECT_EQ(RenderMigration("{db}.x {ttl:ts + INTERVAL {staging_ttl_days} DAY}", context),
            "web_2.x TTL ts + INTERVAL 30 DAY");
}

TEST(RenderMigrationTest, UnknownOrUnclosedPlaceholderNamesTheLine) {
  EXPECT_EQ(RenderError("SELECT 1\nFROM {dbb}.t", Context(kDebian)), "line 2: unknown placeholder '{dbb}'");
  EXPECT_EQ(RenderError("{ttl:d", Context(kDebian)), "line 1: unclosed '{'");
}

TEST(RenderMigrationTest, RefusesADatabaseNameThatIsNotAPlainName) {
  RenderContext context = Context(kDebian);
  context.database = "x; DROP TABLE y";
  EXPECT_NE(RenderError("{db}.t", context).find("is not a plain name"), std::string::npos);
}

TEST(SplitStatementsTest, SplitsOnSemicolonAtEndOfLineAndDropsComments) {
  auto statements = SplitStatements(
      "-- header comment; with a semicolon;\n"
      "CREATE TABLE a (x String DEFAULT 'a;b')\n"
      "ENGINE = Memory;\n"
      "\n"
      "   -- indented comment\n"
      "SELECT 1;  \n"
      ";\n"
      "SELECT 2");
  ASSERT_EQ(statements.size(), 3u);
  EXPECT_EQ(statements[0], "CREATE TABLE a (x String DEFAULT 'a;b')\nENGINE = Memory");
  EXPECT_EQ(statements[1], "SELECT 1");
  EXPECT_EQ(statements[2], "SELECT 2");
}

TEST(SplitStatementsTest, StatementWhoseTtlRendersAwayKeepsNoDanglingText) {
  auto statements = SplitStatements("CREATE TABLE t (d Date) ENGINE = MergeTree ORDER BY d\n{ttl:d};\n");
  ASSERT_EQ(statements.size(), 1u);
  EXPECT_EQ(RenderMigration(statements[0], Context(kDebian)),
            "CREATE TABLE t (d Date) ENGINE = MergeTree ORDER BY d\n");
}

TEST(ServerErrorTest, ParsesTheOldFormat) {
  ParsedServerError e = ParseServerError(
      "Code: 60, e.displayText() = DB::Exception: Table analytics.nope doesn't exist., "
      "e.what() = DB::Exception\n");
  EXPECT_EQ(e.code, 60);
  EXPECT_EQ(e.message, "DB::Exception: Table analytics.nope doesn't exist.");
}

TEST(ServerErrorTest, ParsesTheNewFormat) {
  ParsedServerError e = ParseServerError(
      "Code: 60. DB::Exception: Table default.nope does not exist. (UNKNOWN_TABLE) "
      "(version 24.8.4.13 (official build))\n");
  EXPECT_EQ(e.code, 60);
  EXPECT_EQ(e.message,
            "DB::Exception: Table default.nope does not exist. (UNKNOWN_TABLE) "
            "(version 24.8.4.13 (official build))");
}

TEST(ServerErrorTest, FindsAnExceptionAfterStreamedRows) {
  ParsedServerError e = ParseServerError(
      "1\n2\nCode: 395, e.displayText() = DB::Exception: "
      "Value passed to 'throwIf' function is non zero, e.what() = DB::Exception\n");
  EXPECT_EQ(e.code, 395);
  EXPECT_EQ(e.message, "DB::Exception: Value passed to 'throwIf' function is non zero");
}

TEST(ServerErrorTest, TextWithoutACodeIsKeptWhole) {
  ParsedServerError e = ParseServerError("<html>502 Bad Gateway</html>\n");
  EXPECT_EQ(e.code, 0);
  EXPECT_EQ(e.message, "<html>502 Bad Gateway</html>");
}

TEST(QuoteTest, EscapesBackslashAndSingleQuote) {
  EXPECT_EQ(Quote("plain"), "'plain'");
  EXPECT_EQ(Quote("it's"), "'it\\'s'");
  EXPECT_EQ(Quote("C:\\dir"), "'C:\\\\dir'");
  EXPECT_EQ(Quote("\\'); DROP TABLE x; --"), "'\\\\\\'); DROP TABLE x; --'");
  EXPECT_EQ(Quote(""), "''");
  EXPECT_EQ(QuoteIdentifier("check"), "`check`");
  EXPECT_EQ(QuoteIdentifier("a`b"), "`a\\`b`");
}

TEST(LoadMigrationsTest, SortsByVersionAndRejectsBadNames) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(::testing::TempDir()) / "clickflow_migrations_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "0002_second.sql") << "SELECT 2;\n";
  std::ofstream(dir / "0001_first.sql") << "SELECT 1;\n";
  std::ofstream(dir / "README.md") << "not a migration\n";
  auto migrations = LoadMigrations(dir);
  ASSERT_EQ(migrations.size(), 2u);
  EXPECT_EQ(migrations[0].name, "0001_first.sql");
  EXPECT_EQ(migrations[1].version, 2u);
  EXPECT_EQ(migrations[0].checksum, Sha256Hex("SELECT 1;\n"));
  std::ofstream(dir / "3_bad.sql") << "SELECT 3;\n";
  EXPECT_THROW(LoadMigrations(dir), Error);
  fs::remove(dir / "3_bad.sql");
  std::ofstream(dir / "0002_clash.sql") << "SELECT 3;\n";
  EXPECT_THROW(LoadMigrations(dir), Error);
  fs::remove_all(dir);
}

TEST(LoadMigrationsTest, ShippedMigrationsRenderForOldAndNewServers) {
  auto migrations = LoadMigrations(std::filesystem::path(CLICKFLOW_SOURCE_DIR) / "clickhouse/migrations");
  ASSERT_FALSE(migrations.empty());
  for (const Migration& m : migrations) {
    for (const std::string& statement : SplitStatements(m.text)) {
      std::string old_server = RenderMigration(statement, Context(kDebian));
      std::string new_server = RenderMigration(statement, Context(kCurrent));
      EXPECT_EQ(old_server.find("TTL"), std::string::npos) << m.name << ": " << statement;
      EXPECT_EQ(old_server.find('{'), std::string::npos) << m.name;
      EXPECT_EQ(new_server.find('{'), std::string::npos) << m.name;
      EXPECT_EQ(old_server.find("deduplication"), std::string::npos) << m.name << ": " << statement;
    }
  }
}

}  // namespace
}  // namespace clickflow
