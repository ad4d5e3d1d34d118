// SPDX-License-Identifier: GPL-3.0-or-later
// Reader queries: results come back on the loop thread, errors as text, reconnects.
#include <pqxx/pqxx>

#include <thread>

#include "core/metrics.hpp"
#include "db/database.hpp"
#include "pg_env.hpp"

namespace salon::db::test {
namespace {

class Queries : public PgTest {
protected:
  Options options(std::size_t readers = 2) const {
    Options o;
    o.conninfo = conninfo();
    o.readers = readers;
    o.health_interval = std::chrono::milliseconds(100);
    return o;
  }
  template <typename T>
  std::optional<Result<T>> wait(std::optional<Result<T>>& slot) {
    EXPECT_TRUE(run_until([&] { return slot.has_value(); }));
    return slot;
  }
  Metrics metrics_;
};

int backend_pid(pqxx::connection_base& c) {
  pqxx::read_transaction tx(c);
  return tx.exec("SELECT pg_backend_pid()")[0][0].as<int>();
}

TEST_F(Queries, ResultIsPostedToTheLoopThread) {
  Database db(io_, metrics_, options());
  std::thread::id job_thread, done_thread;
  std::optional<Result<int>> result;
  db.query(
      [&](pqxx::connection_base& c) {
        job_thread = std::this_thread::get_id();
        pqxx::read_transaction tx(c);
        return tx.exec_params("SELECT $1::int + 1", 41)[0][0].as<int>();
      },
      [&](Result<int> r) {
        done_thread = std::this_thread::get_id();
        result = std::move(r);
      });
  ASSERT_TRUE(run_until([&] { return result.has_value(); }));
  ASSERT_TRUE(result->ok()) << result->error();
  EXPECT_EQ(result->value(), 42);
  EXPECT_EQ(done_thread, std::this_thread::get_id());  // this thread runs the io_context
  EXPECT_NE(job_thread, std::this_thread::get_id());
}

TEST_F(Queries, MoveOnlyResultsAndManyQueries) {
  Database db(io_, metrics_, options());
  std::vector<int> got;
  for (int i = 0; i < 100; ++i)
    db.query(
        [i](pqxx::connection_base& c) {
          pqxx::read_transaction tx(c);
          return std::make_unique<int>(tx.exec_params("SELECT $1::int", i)[0][0].as<int>());
        },
        [&](Result<std::unique_ptr<int>> r) {
          ASSERT_TRUE(r.ok()) << r.error();
          got.push_back(*std::move(r).value());
        });
  ASSERT_TRUE(run_until([&] { return got.size() == 100; }));
  std::sort(got.begin(), got.end());
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(got[i], i);
}

TEST_F(Queries, ErrorsComeBackAsText) {
  Database db(io_, metrics_, options(1));
  std::optional<Result<int>> bad, thrown, good;
  db.query(
      [](pqxx::connection_base& c) {
        pqxx::read_transaction tx(c);
        return tx.exec("SELEC 1")[0][0].as<int>();
      },
      [&](Result<int> r) { bad = std::move(r); });
  db.query([](pqxx::connection_base&) -> int { throw std::runtime_error("no such room"); },
           [&](Result<int> r) { thrown = std::move(r); });
  db.query([](pqxx::connection_base& c) { return backend_pid(c); },
           [&](Result<int> r) { good = std::move(r); });
  ASSERT_TRUE(run_until([&] { return bad && thrown && good; }));
  EXPECT_FALSE(bad->ok());
  EXPECT_NE(bad->error().find("syntax error"), std::string::npos) << bad->error();
  EXPECT_FALSE(thrown->ok());
  EXPECT_EQ(thrown->error(), "no such room");
  EXPECT_TRUE(good->ok()) << good->error();  // the connection is still usable
  EXPECT_EQ(metrics_.counter("salon_db_errors_total", "", {{"op", "query"}}).value(), 2u);
}

TEST_F(Queries, BrokenConnectionFailsOnceThenReconnects) {
  Database db(io_, metrics_, options(1));
  const auto pid_query = [&](bool idempotent) {
    std::optional<Result<int>> r;
    db.query([](pqxx::connection_base& c) { return backend_pid(c); },
             [&](Result<int> x) { r = std::move(x); }, QueryOptions{.idempotent = idempotent});
    EXPECT_TRUE(run_until([&] { return r.has_value(); }));
    return r;
  };
  const auto kill = [&](int pid) {
    pqxx::connection admin(conninfo());
    pqxx::nontransaction tx(admin);
    ASSERT_TRUE(tx.exec_params("SELECT pg_terminate_backend($1)", pid)[0][0].as<bool>());
  };

  const auto first = pid_query(false);
  ASSERT_TRUE(first && first->ok()) << (first ? first->error() : "");
  kill(first->value());
  const auto failed = pid_query(false);  // not idempotent: fails, not retried silently
  ASSERT_TRUE(failed);
  EXPECT_FALSE(failed->ok());
  EXPECT_NE(failed->error().find("connection"), std::string::npos) << failed->error();
  const auto second = pid_query(false);  // the reader reconnected
  ASSERT_TRUE(second && second->ok()) << (second ? second->error() : "");
  EXPECT_NE(second->value(), first->value());

  kill(second->value());
  const auto retried = pid_query(true);  // idempotent: retried once on a fresh connection
  ASSERT_TRUE(retried && retried->ok()) << (retried ? retried->error() : "");
  EXPECT_NE(retried->value(), second->value());
}

}  // namespace
}  // namespace salon::db::test

namespace salon::db::test {
namespace {

class Bounded : public Queries {};

TEST_F(Bounded, StatementTimeoutStopsARunawayQuery) {
  Options o = options(1);
  o.statement_timeout = std::chrono::milliseconds(200);
  Database db(io_, metrics_, o);
  std::optional<Result<int>> slow, after, write_setting;
  db.query(
      [](pqxx::connection_base& c) {
        pqxx::read_transaction tx(c);
        tx.exec("SELECT pg_sleep(30)");  // without the timeout: 30 s, then success
        return 1;
      },
      [&](Result<int> r) { slow = std::move(r); });
  db.query([](pqxx::connection_base& c) { return backend_pid(c); },
           [&](Result<int> r) { after = std::move(r); });
  ASSERT_TRUE(run_until([&] { return slow && after; }));
  ASSERT_FALSE(slow->ok());
  EXPECT_NE(slow->error().find("statement timeout"), std::string::npos) << slow->error();
  EXPECT_TRUE(after->ok()) << after->error();  // the reader goes on
  // The writer's connection has it too.
  auto shown = std::make_shared<std::string>();
  db.write({[shown](pqxx::dbtransaction& tx) {
              *shown = tx.exec("SHOW statement_timeout")[0][0].as<std::string>();
            },
            [&](WriteOutcome o) {
              write_setting = o.ok() ? Result<int>::success(0) : Result<int>::failure(o.error);
            }});
  ASSERT_TRUE(run_until([&] { return write_setting.has_value(); }));
  ASSERT_TRUE(write_setting->ok()) << write_setting->error();
  EXPECT_EQ(*shown, "200ms");
}

TEST_F(Bounded, QueriesBeyondTheQueueBoundFailAtOnce) {
  Options o = options(1);
  o.max_queued_queries = 3;
  Database db(io_, metrics_, o);
  std::atomic<bool> started{false}, release{false};
  std::optional<Result<int>> first;
  db.query(
      [&](pqxx::connection_base&) {
        started = true;
        while (!release)
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return 0;
      },
      [&](Result<int> r) { first = std::move(r); });
  ASSERT_TRUE(run_until([&] { return started.load(); }));  // the one reader is busy
  std::vector<Result<int>> done;
  for (int i = 0; i < 5; ++i)
    db.query([i](pqxx::connection_base&) { return i; },
             [&](Result<int> r) { done.push_back(std::move(r)); });
  // Two over the bound: refused without waiting for the reader.
  ASSERT_TRUE(run_until([&] { return done.size() == 2; }));
  for (const auto& r : done) {
    EXPECT_FALSE(r.ok());
    EXPECT_NE(r.error().find("too many queued queries"), std::string::npos) << r.error();
  }
  EXPECT_EQ(metrics_.counter("salon_db_queries_refused_total", "").value(), 2u);
  release = true;
  ASSERT_TRUE(run_until([&] { return first && done.size() == 5; }));
  for (std::size_t i = 2; i < 5; ++i)
    EXPECT_TRUE(done[i].ok()) << done[i].error();
}

}  // namespace
}  // namespace salon::db::test
