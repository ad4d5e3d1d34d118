// SPDX-License-Identifier: GPL-3.0-or-later
// The migration runner against a real PostgreSQL (a scratch database per test).
#include <pqxx/pqxx>

#include <thread>

#include "db/migrations.hpp"
#include "pg_env.hpp"

namespace salon::db::test {
namespace {

class Migrations : public PgTest {
protected:
  MigrationResult run(const std::filesystem::path& dir) const {
    pqxx::connection c(conninfo());
    return run_migrations(c, dir);
  }
  std::string versions() const {
    return scalar(
        "SELECT string_agg(version || ':' || name, ',' ORDER BY version)"
        " FROM schema_version");
  }
  bool table_exists(const std::string& name) const {
    return scalar("SELECT to_regclass('" + name + "') IS NOT NULL") == "t";
  }
};

TEST_F(Migrations, ApplyInNumberOrder) {
  TempDir dir;
  // 010 sorts after 002 numerically; each file depends on the one before it.
  dir.write("010_third.sql", "INSERT INTO steps VALUES (3, (SELECT max(n) FROM steps));");
  dir.write("001_first.sql",
            "CREATE TABLE steps (n int PRIMARY KEY, prev int);"
            "INSERT INTO steps VALUES (1, NULL);");
  dir.write("002_second.sql", "INSERT INTO steps VALUES (2, (SELECT max(n) FROM steps));");
  dir.write("README.md", "not a migration");
  const MigrationResult r = run(dir.path());
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.from_version, 0);
  EXPECT_EQ(r.to_version, 10);
  EXPECT_EQ(r.applied, (std::vector<int>{1, 2, 10}));
  EXPECT_EQ(versions(), "1:first,2:second,10:third");
  EXPECT_EQ(scalar("SELECT string_agg(n || '<' || coalesce(prev, 0), ',' ORDER BY n) FROM steps"),
            "1<0,2<1,3<2");
  EXPECT_EQ(scalar("SELECT count(*) FROM schema_version WHERE applied_at IS NULL"), "0");
}

TEST_F(Migrations, RerunIsANoOpAndLaterFilesApply) {
  TempDir dir;
  dir.write("001_a.sql", "CREATE TABLE a (x int);");
  ASSERT_TRUE(run(dir.path()).ok());
  const std::string applied_at = scalar("SELECT applied_at FROM schema_version");

  const MigrationResult again = run(dir.path());
  ASSERT_TRUE(again.ok()) << again.error;
  EXPECT_TRUE(again.applied.empty());
  EXPECT_EQ(again.from_version, 1);
  EXPECT_EQ(again.to_version, 1);
  EXPECT_EQ(versions(), "1:a");
  EXPECT_EQ(scalar("SELECT applied_at FROM schema_version"), applied_at);

  dir.write("002_b.sql", "ALTER TABLE a ADD COLUMN y int;");
  const MigrationResult next = run(dir.path());
  ASSERT_TRUE(next.ok()) << next.error;
  EXPECT_EQ(next.applied, std::vector<int>{2});
  EXPECT_EQ(versions(), "1:a,2:b");
}

TEST_F(Migrations, FailingFileLeavesNothingBehind) {
  TempDir dir;
  dir.write("001_good.sql", "CREATE TABLE good (x int);");
  // The first statement succeeds, the second is broken: the whole file must be rolled back.
  dir.write("002_bad.sql",
            "CREATE TABLE partial (x int);\nINSERT INTO good VALUES (1);\n"
            "SELEC 1;\n");
  dir.write("003_after.sql", "CREATE TABLE after_bad (x int);");
  const MigrationResult r = run(dir.path());
  EXPECT_EQ(r.status, MigrationStatus::failed);
  EXPECT_TRUE(r.fatal());
  EXPECT_EQ(r.file, "002_bad.sql");
  EXPECT_NE(r.error.find("002_bad.sql"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("syntax error"), std::string::npos) << r.error;  // PostgreSQL's text
  EXPECT_EQ(r.applied, std::vector<int>{1});
  EXPECT_EQ(r.to_version, 1);
  EXPECT_EQ(versions(), "1:good");
  EXPECT_FALSE(table_exists("partial"));
  EXPECT_FALSE(table_exists("after_bad"));
  EXPECT_EQ(scalar("SELECT count(*) FROM good"), "0");

  // Fixed file: the next run carries on from version 1.
  dir.write("002_bad.sql", "CREATE TABLE partial (x int);");
  const MigrationResult fixed = run(dir.path());
  ASSERT_TRUE(fixed.ok()) << fixed.error;
  EXPECT_EQ(fixed.applied, (std::vector<int>{2, 3}));
}

TEST_F(Migrations, RefusesANewerSchema) {
  TempDir newer, older;
  newer.write("001_a.sql", "CREATE TABLE a (x int);");
  newer.write("002_b.sql", "CREATE TABLE b (x int);");
  older.write("001_a.sql", "CREATE TABLE a (x int);");
  ASSERT_TRUE(run(newer.path()).ok());
  const MigrationResult r = run(older.path());
  EXPECT_EQ(r.status, MigrationStatus::newer_schema);
  EXPECT_TRUE(r.fatal());
  EXPECT_EQ(r.from_version, 2);
  EXPECT_NE(r.error.find("version 2"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("001"), std::string::npos) << r.error;
  EXPECT_EQ(versions(), "1:a,2:b");
  // An empty schema directory against a migrated database is the same mistake.
  TempDir empty;
  EXPECT_EQ(run(empty.path()).status, MigrationStatus::newer_schema);
}

TEST_F(Migrations, RejectsBadFileNamesBeforeTouchingTheDatabase) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"1_short.sql", "1_short.sql"},     {"0001_long.sql", "0001_long.sql"},
      {"001-dash.sql", "001-dash.sql"},   {"001_.sql", "001_.sql"},
      {"001_Upper.sql", "001_Upper.sql"}, {"001_sp ace.sql", "001_sp ace.sql"},
      {"000_zero.sql", "000_zero.sql"},   {"abc_name.sql", "abc_name.sql"},
  };
  for (const auto& [file, expected] : bad) {
    TempDir dir;
    dir.write("001_fine.sql", "CREATE TABLE fine (x int);");
    dir.write(file, "SELECT 1;");
    const MigrationResult r = run(dir.path());
    EXPECT_EQ(r.status, MigrationStatus::bad_files) << file;
    EXPECT_NE(r.error.find(expected), std::string::npos) << r.error;
  }
  TempDir dup;
  dup.write("001_a.sql", "SELECT 1;");
  dup.write("001_b.sql", "SELECT 1;");
  const MigrationResult r = run(dup.path());
  EXPECT_EQ(r.status, MigrationStatus::bad_files);
  EXPECT_NE(r.error.find("001_a.sql and 001_b.sql"), std::string::npos) << r.error;

  EXPECT_EQ(run("/nonexistent/salon/schemas").status, MigrationStatus::bad_files);
  EXPECT_FALSE(table_exists("schema_version"));
  EXPECT_FALSE(table_exists("fine"));
}

TEST_F(Migrations, ConcurrentRunnersApplyEachFileOnce) {
  TempDir dir;
  // Not idempotent on purpose: applying a file twice would fail. pg_sleep widens the window.
  dir.write("001_a.sql", "SELECT pg_sleep(0.2); CREATE TABLE a (x int);");
  dir.write("002_b.sql", "SELECT pg_sleep(0.2); CREATE TABLE b (x int);");
  MigrationResult r1, r2;
  std::thread t1([&] { r1 = run(dir.path()); });
  std::thread t2([&] { r2 = run(dir.path()); });
  t1.join();
  t2.join();
  ASSERT_TRUE(r1.ok()) << r1.error;
  ASSERT_TRUE(r2.ok()) << r2.error;
  EXPECT_EQ(r1.applied.size() + r2.applied.size(), 2u);
  EXPECT_EQ(versions(), "1:a,2:b");
}

TEST_F(Migrations, TheCoreSchemaApplies) {
  const MigrationResult r = run(default_schema_dir());
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_GE(r.to_version, 1);
  EXPECT_EQ(scalar("SELECT name FROM schema_version WHERE version = 1"), "core");
  exec("INSERT INTO rooms (jid_local, name) VALUES ('p1', 'Project 1')");
  exec(
      "INSERT INTO affiliations (room_id, jid, affiliation, nick)"
      " SELECT id, 'alice@localhost', 'owner', 'Alice' FROM rooms");
  // A reserved nick is unique per room whatever its case.
  EXPECT_THROW(exec("INSERT INTO affiliations (room_id, jid, affiliation, nick)"
                    " SELECT id, 'bob@localhost', 'member', 'alice' FROM rooms"),
               pqxx::unique_violation);
  EXPECT_THROW(exec("INSERT INTO affiliations (room_id, jid, affiliation)"
                    " SELECT id, 'carol@localhost', 'visitor' FROM rooms"),
               pqxx::check_violation);
  exec(
      "INSERT INTO occupants (room_id, nick, real_jid, role, presence)"
      " SELECT id, 'Alice', 'alice@localhost/web', 'moderator', '<presence/>' FROM rooms");
  exec("DELETE FROM rooms");
  EXPECT_EQ(scalar("SELECT count(*) FROM affiliations"), "0");
  EXPECT_EQ(scalar("SELECT count(*) FROM occupants"), "0");
}

}  // namespace
}  // namespace salon::db::test
