// SPDX-License-Identifier: GPL-3.0-or-later
// Health, PostgreSQL outages and migrations run by the Database itself.
#include <pqxx/pqxx>

#include "core/metrics.hpp"
#include "db/conninfo.hpp"
#include "db/database.hpp"
#include "pg_env.hpp"
#include "pg_proxy.hpp"

namespace salon::db::test {
namespace {

using namespace std::chrono_literals;

class Health : public PgTest {
protected:
  Options options(std::string conninfo) const {
    Options o;
    o.conninfo = std::move(conninfo);
    o.readers = 1;
    o.health_interval = 50ms;
    o.reconnect_initial = 20ms;
    o.reconnect_max = 200ms;
    return o;
  }
  std::string conninfo_with_port(std::uint16_t port) const {
    return conninfo_with(
        conninfo(),
        {{"host", "127.0.0.1"}, {"hostaddr", "127.0.0.1"}, {"port", std::to_string(port)}});
  }
  std::optional<Result<int>> select_one(Database& db) {
    std::optional<Result<int>> r;
    db.query(
        [](pqxx::connection_base& c) {
          pqxx::read_transaction tx(c);
          return tx.exec("SELECT 1")[0][0].as<int>();
        },
        [&](Result<int> x) { r = std::move(x); });
    EXPECT_TRUE(run_until([&] { return r.has_value(); }));
    return r;
  }
  std::optional<WriteOutcome> write_one(Database& db) {
    std::optional<WriteOutcome> r;
    db.write({[](pqxx::dbtransaction& tx) { tx.exec("SELECT 1"); },
              [&](WriteOutcome o) { r = std::move(o); }});
    EXPECT_TRUE(run_until([&] { return r.has_value(); }));
    return r;
  }
  Metrics metrics_;
};

TEST_F(Health, UnreachableServerIsReportedNotThrown) {
  const std::string bogus = conninfo_with_port(unused_port());
  std::vector<bool> changes;
  const auto t0 = std::chrono::steady_clock::now();
  {
    Database db(io_, metrics_, options(bogus));
    db.on_health_change([&](bool h) { changes.push_back(h); });
    auto& health_errors = metrics_.counter("salon_db_errors_total", "", {{"op", "health"}});
    // Several failed checks in a row, and it keeps trying.
    ASSERT_TRUE(run_until([&] { return health_errors.value() >= 4; }));
    EXPECT_FALSE(db.healthy());
    EXPECT_EQ(metrics_.gauge("salon_db_up", "").value(), 0);
    const auto q = select_one(db);
    ASSERT_TRUE(q);
    EXPECT_FALSE(q->ok());
    EXPECT_NE(q->error().find("PostgreSQL unavailable"), std::string::npos) << q->error();
    const auto w = write_one(db);
    ASSERT_TRUE(w);
    EXPECT_FALSE(w->ok());
    EXPECT_EQ(w->status, WriteStatus::unreachable);
    EXPECT_NE(w->error.find("PostgreSQL unavailable"), std::string::npos) << w->error;
  }  // shutting down with the server away neither throws nor hangs
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
  EXPECT_TRUE(changes.empty());  // never healthy: no change to report
  EXPECT_GT(metrics_.counter("salon_db_errors_total", "", {{"op", "connect"}}).value(), 0u);
}

TEST_F(Health, FollowsTheServerGoingAwayAndComingBack) {
  PgProxy proxy(conninfo());
  proxy.start();
  Database db(io_, metrics_, options(proxy.through(conninfo())));
  std::vector<bool> changes;
  db.on_health_change([&](bool h) { changes.push_back(h); });
  ASSERT_TRUE(run_until([&] { return db.healthy(); }));
  EXPECT_EQ(metrics_.gauge("salon_db_up", "").value(), 1);
  ASSERT_TRUE(select_one(db)->ok());

  proxy.stop();  // PostgreSQL "down"
  ASSERT_TRUE(run_until([&] { return !db.healthy(); }));
  const auto down = select_one(db);
  EXPECT_FALSE(down->ok());

  proxy.start();  // and back
  ASSERT_TRUE(run_until([&] { return db.healthy(); }));
  // Workers reconnect by themselves: within a few attempts queries and writes work again.
  std::optional<Result<int>> again;
  ASSERT_TRUE(run_until([&] {
    again = select_one(db);
    return again && again->ok();
  }));
  const auto w = write_one(db);
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->ok()) << w->error;
  EXPECT_EQ(changes, (std::vector<bool>{true, false, true}));
}

TEST_F(Health, MigratesBeforeBeingHealthy) {
  Options o = options(conninfo());
  o.schema_dir = default_schema_dir();
  Database db(io_, metrics_, o);
  std::optional<MigrationResult> migrated;
  db.on_migrations([&](const MigrationResult& r) { migrated = r; });
  ASSERT_TRUE(run_until([&] { return migrated.has_value() && db.healthy(); }));
  EXPECT_TRUE(migrated->ok()) << migrated->error;
  EXPECT_EQ(scalar("SELECT to_regclass('rooms') IS NOT NULL"), "t");
  // Registering late still reports the result.
  bool late = false;
  db.on_migrations([&](const MigrationResult& r) { late = r.ok(); });
  EXPECT_TRUE(late);
}

TEST_F(Health, AFailedMigrationIsFatalAndBlocksWork) {
  TempDir dir;
  dir.write("001_core.sql", "CREATE TABLE x (y int);");
  dir.write("002_broken.sql", "CREATE TABLE z (;");
  Options o = options(conninfo());
  o.schema_dir = dir.path();
  Database db(io_, metrics_, o);
  std::optional<MigrationResult> migrated;
  db.on_migrations([&](const MigrationResult& r) { migrated = r; });
  ASSERT_TRUE(run_until([&] { return migrated.has_value(); }));
  EXPECT_TRUE(migrated->fatal());  // salond exits 3 on this
  EXPECT_EQ(migrated->file, "002_broken.sql");
  const auto w = write_one(db);
  ASSERT_TRUE(w);
  EXPECT_FALSE(w->ok());
  EXPECT_EQ(w->status, WriteStatus::failed);  // not for a spool: it would never get in
  EXPECT_NE(w->error.find("002_broken.sql"), std::string::npos) << w->error;
  const auto q = select_one(db);
  EXPECT_FALSE(q->ok());
  // PostgreSQL answers, but the schema is not usable: not ready. (salon_db_up is set on the
  // loop in the same handler that recomputes healthy(), so this is not a race.)
  ASSERT_TRUE(run_until([&] { return metrics_.gauge("salon_db_up", "").value() == 1; }));
  EXPECT_FALSE(db.healthy());
}

TEST_F(Health, BadSchemaFileNamesAreFatalEvenWhilePostgresIsDown) {
  TempDir dir;
  dir.write("1_core.sql", "SELECT 1;");
  Options o = options(conninfo_with_port(unused_port()));
  o.schema_dir = dir.path();
  Database db(io_, metrics_, o);
  std::optional<MigrationResult> migrated;
  db.on_migrations([&](const MigrationResult& r) { migrated = r; });
  ASSERT_TRUE(run_until([&] { return migrated.has_value(); }));
  EXPECT_EQ(migrated->status, MigrationStatus::bad_files);
  EXPECT_NE(migrated->error.find("1_core.sql"), std::string::npos) << migrated->error;
}

TEST_F(Health, MalformedConninfoIsAConfigurationError) {
  EXPECT_THROW(Database(io_, metrics_, options("host='unterminated")), std::invalid_argument);
}

}  // namespace
}  // namespace salon::db::test
