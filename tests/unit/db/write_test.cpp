// SPDX-License-Identifier: GPL-3.0-or-later
// The durable write path: group commit, per-job isolation, order, reconnects.
#include <pqxx/pqxx>

#include <future>
#include <set>

#include "core/metrics.hpp"
#include "db/database.hpp"
#include "pg_env.hpp"

namespace salon::db::test {
namespace {

struct Completion {
  int id;
  bool ok;
  std::string error;
  WriteStatus status;
};

class Writes : public PgTest {
protected:
  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
    // txid records which transaction wrote each row; seq the order rows were written in.
    exec(
        "CREATE TABLE t (seq bigserial PRIMARY KEY, v int NOT NULL UNIQUE,"
        " txid bigint NOT NULL DEFAULT txid_current())");
  }

  Options options() const {
    Options o;
    o.conninfo = conninfo();
    o.readers = 1;
    o.health_interval = std::chrono::milliseconds(100);
    return o;
  }

  WriteJob insert(int id, int v) {
    return {[v](pqxx::dbtransaction& tx) { tx.exec_params("INSERT INTO t (v) VALUES ($1)", v); },
            recorder(id)};
  }
  WriteJob sql(int id, std::string statement) {
    return {[statement](pqxx::dbtransaction& tx) { tx.exec(statement); }, recorder(id)};
  }
  std::function<void(WriteOutcome)> recorder(int id) {
    return [this, id](WriteOutcome o) {
      EXPECT_EQ(o.ok(), o.error.empty()) << o.error;
      completions_.push_back({id, o.ok(), std::move(o.error), o.status});
    };
  }

  // Queues a job that holds the writer inside its transaction until release() is called, and
  // waits until the writer is really in it.
  void block_writer(Database& db, int id, int v) {
    auto started = std::make_shared<std::promise<void>>();
    auto started_f = started->get_future();
    auto released = release_.get_future().share();
    db.write({[v, started, released](pqxx::dbtransaction& tx) {
                tx.exec_params("INSERT INTO t (v) VALUES ($1)", v);
                started->set_value();
                released.wait();
              },
              recorder(id)});
    ASSERT_EQ(started_f.wait_for(std::chrono::seconds(15)), std::future_status::ready);
  }
  void release() { release_.set_value(); }

  bool wait_for_completions(std::size_t n) {
    return run_until([&] { return completions_.size() >= n; });
  }

  // "v:txid-index" per row in write order, with transactions numbered 0, 1, ... as they appear.
  std::string rows_by_transaction() const {
    return scalar(
        "SELECT string_agg(v || ':' || t, ',' ORDER BY seq) FROM"
        " (SELECT seq, v, dense_rank() OVER (ORDER BY txid) - 1 AS t FROM t) r");
  }

  std::vector<Completion> completions_;
  Metrics metrics_;

private:
  std::promise<void> release_;
};

TEST_F(Writes, QueuedJobsShareOneTransactionAndKeepOrder) {
  Database db(io_, metrics_, options());
  block_writer(db, 0, 0);
  constexpr int n = 50;
  for (int i = 1; i <= n; ++i)
    db.write(insert(i, i));
  EXPECT_EQ(db.write_queue_depth(), static_cast<std::size_t>(n));
  release();
  ASSERT_TRUE(wait_for_completions(n + 1));
  for (int i = 0; i <= n; ++i) {
    EXPECT_EQ(completions_[i].id, i);
    EXPECT_TRUE(completions_[i].ok) << completions_[i].error;
  }
  // Job 0 alone, then all 50 queued behind it in ONE transaction, in queue order.
  std::string expected = "0:0";
  for (int i = 1; i <= n; ++i)
    expected += "," + std::to_string(i) + ":1";
  EXPECT_EQ(rows_by_transaction(), expected);

  auto& batches = metrics_.histogram("salon_db_write_batch_size", "");
  EXPECT_EQ(batches.count(), 2u);
  EXPECT_EQ(batches.sum(), n + 1.0);
  EXPECT_EQ(metrics_.histogram("salon_db_commit_duration_seconds", "").count(), 2u);
  EXPECT_EQ(metrics_.gauge("salon_db_write_queue_depth", "").value(), 0);
  EXPECT_NE(metrics_.render().find("salon_db_write_batch_size_bucket{le=\"1\"} 1"),
            std::string::npos);
}

TEST_F(Writes, MaxBatchSplitsTransactions) {
  Options o = options();
  o.max_batch = 4;
  Database db(io_, metrics_, o);
  block_writer(db, 0, 0);
  for (int i = 1; i <= 10; ++i)
    db.write(insert(i, i));
  release();
  ASSERT_TRUE(wait_for_completions(11));
  EXPECT_EQ(rows_by_transaction(), "0:0,1:1,2:1,3:1,4:1,5:2,6:2,7:2,8:2,9:3,10:3");
}

TEST_F(Writes, OneBadJobDoesNotFailTheOthers) {
  Database db(io_, metrics_, options());
  block_writer(db, 0, 0);
  for (int i = 1; i <= 10; ++i) {
    if (i == 4)
      db.write(sql(i, "INSERT INTO missing_table VALUES (1)"));
    else if (i == 7)
      db.write(insert(i, 2));  // duplicates job 2's row of the same batch
    else
      db.write(insert(i, i));
  }
  release();
  ASSERT_TRUE(wait_for_completions(11));
  for (int i = 0; i <= 10; ++i) {
    EXPECT_EQ(completions_[i].id, i);
    EXPECT_EQ(completions_[i].ok, i != 4 && i != 7) << i << ": " << completions_[i].error;
  }
  EXPECT_NE(completions_[4].error.find("missing_table"), std::string::npos)
      << completions_[4].error;
  EXPECT_NE(completions_[7].error.find("duplicate key"), std::string::npos)
      << completions_[7].error;
  EXPECT_EQ(completions_[4].status, WriteStatus::failed);
  EXPECT_EQ(completions_[7].status, WriteStatus::failed);
  // The good jobs are stored once each, in order, in a few transactions (not one each).
  EXPECT_EQ(rows_by_transaction(), "0:0,1:1,2:1,3:1,5:2,6:2,8:3,9:3,10:3");
  EXPECT_EQ(metrics_.counter("salon_db_errors_total", "", {{"op", "write"}}).value(), 2u);
}

TEST_F(Writes, ACommitTimeFailureIsolatesTheCulprit) {
  exec(
      "DROP TABLE t; CREATE TABLE t (seq bigserial PRIMARY KEY, v int NOT NULL,"
      " txid bigint NOT NULL DEFAULT txid_current(),"
      " CONSTRAINT t_v_unique UNIQUE (v) DEFERRABLE INITIALLY DEFERRED)");
  Database db(io_, metrics_, options());
  block_writer(db, 0, 0);
  for (int i = 1; i <= 5; ++i)
    db.write(insert(i, i == 3 ? 1 : i));  // checked at COMMIT only
  release();
  ASSERT_TRUE(wait_for_completions(6));
  for (int i = 0; i <= 5; ++i) {
    EXPECT_EQ(completions_[i].id, i);
    EXPECT_EQ(completions_[i].ok, i != 3) << i << ": " << completions_[i].error;
  }
  EXPECT_NE(completions_[3].error.find("t_v_unique"), std::string::npos) << completions_[3].error;
  EXPECT_EQ(completions_[3].status, WriteStatus::failed);
  EXPECT_EQ(scalar("SELECT string_agg(v::text, ',' ORDER BY seq) FROM t"), "0,1,2,4,5");
}

TEST_F(Writes, AJobsExceptionIsItsError) {
  Database db(io_, metrics_, options());
  db.write({[](pqxx::dbtransaction&) { throw std::runtime_error("plugin refused"); }, recorder(1)});
  db.write(insert(2, 2));
  ASSERT_TRUE(wait_for_completions(2));
  EXPECT_FALSE(completions_[0].ok);
  EXPECT_EQ(completions_[0].error, "plugin refused");
  EXPECT_EQ(completions_[0].status, WriteStatus::failed);
  EXPECT_TRUE(completions_[1].ok) << completions_[1].error;
}

TEST_F(Writes, SurvivesAKilledConnection) {
  Database db(io_, metrics_, options());
  db.write(insert(1, 1));
  ASSERT_TRUE(wait_for_completions(1));
  ASSERT_TRUE(completions_[0].ok) << completions_[0].error;
  // Kill the writer's backend: the next batch finds the connection dead, reconnects once and
  // still commits.
  pqxx::connection admin(conninfo());
  pqxx::nontransaction tx(admin);
  const auto killed = tx.exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
      " WHERE application_name LIKE '%/writer' AND datname = " +
      tx.quote(scalar("SELECT current_database()")));
  ASSERT_EQ(killed.size(), 1u);
  db.write(insert(2, 2));
  ASSERT_TRUE(wait_for_completions(2));
  EXPECT_TRUE(completions_[1].ok) << completions_[1].error;
  EXPECT_EQ(scalar("SELECT string_agg(v::text, ',' ORDER BY seq) FROM t"), "1,2");
}

TEST_F(Writes, StopFlushesQueuedWrites) {
  {
    Database db(io_, metrics_, options());
    block_writer(db, 0, 0);
    for (int i = 1; i <= 20; ++i)
      db.write(insert(i, i));
    std::thread releaser([this] { release(); });
    db.stop();  // blocks until the queue is flushed
    releaser.join();
    db.write(insert(99, 99));  // after stop: refused, not lost silently
  }
  ASSERT_TRUE(wait_for_completions(22));
  for (int i = 0; i <= 20; ++i)
    EXPECT_TRUE(completions_[i].ok) << completions_[i].error;
  EXPECT_FALSE(completions_[21].ok);
  EXPECT_EQ(completions_[21].status, WriteStatus::unreachable);  // may go to a spool
  EXPECT_EQ(scalar("SELECT count(*) FROM t"), "21");
}

}  // namespace
}  // namespace salon::db::test
