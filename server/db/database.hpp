// SPDX-License-Identifier: GPL-3.0-or-later
// salond's PostgreSQL layer. libpqxx 6.4 is blocking, so every connection lives on a worker
// thread of its own and results come back to the event loop with boost::asio::post:
//  - a reader pool (query): jobs get a pqxx::connection_base& and open their own transaction;
//  - one writer (write): durable writes with group commit. Everything queued when the writer
//    becomes free runs in ONE transaction and one commit; a failing job is isolated (the jobs
//    before it commit together, it is retried alone, the rest continue in a new batch), so one
//    bad job never fails the others. Completions are posted in the order jobs were queued.
//    Messages and the plugins' rows for them come through the journal (server/journal/),
//    which makes a batch of messages one job;
//  - a health checker (SELECT 1 every health_interval) that drives healthy() for /readyz;
//  - schema migrations run on the writer's first connection, before any write.
// PostgreSQL being down never throws or stops salond: work fails fast with an error while the
// threads reconnect with backoff in the background.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <pqxx/types>  // forward declarations only: connection_base, dbtransaction

#include "db/migrations.hpp"

namespace salon {
class Metrics;
}

namespace salon::db {

namespace detail {
using Completion = std::function<void()>;  // what a worker posts to the loop
struct QueryTask {
  std::function<Completion(pqxx::connection_base&)> run;
  std::function<Completion(std::string error)> fail;
  bool idempotent = false;
};
struct Engine;  // the threads and queues (engine.hpp, internal)
}  // namespace detail

struct Options {
  std::string conninfo;  // libpq conninfo (keywords or URI)
  std::chrono::milliseconds health_interval{1000};
  std::size_t readers = 2;       // reader threads, each with its own connection
  std::size_t max_batch = 1000;  // jobs per write transaction at most
  std::chrono::milliseconds reconnect_initial{100};
  std::chrono::milliseconds reconnect_max{2000};
  std::chrono::seconds connect_timeout{5};  // used unless conninfo sets connect_timeout
  // Every statement on every connection (SET statement_timeout): a query stuck on a lock or a
  // runaway plan fails instead of holding a worker forever. Migrations are exempt. 0 = none.
  std::chrono::milliseconds statement_timeout{30000};
  // Queries waiting for a reader; past it query() fails at once ("too many queued queries"),
  // counted in salon_db_queries_refused_total, rather than queue without bound behind a slow
  // database.
  std::size_t max_queued_queries = 10000;
  std::optional<std::filesystem::path> schema_dir;  // migrations to apply; none when unset
};

// A query's outcome: a value, or the error text (PostgreSQL's message, or why it did not run).
template <typename T>
class Result {
public:
  static Result success(T value) { return Result(std::move(value), {}); }
  static Result failure(std::string error) { return Result(std::nullopt, std::move(error)); }

  [[nodiscard]] bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  // Precondition: ok().
  [[nodiscard]] T& value() & { return *value_; }
  [[nodiscard]] const T& value() const& { return *value_; }
  [[nodiscard]] T&& value() && { return std::move(*value_); }
  [[nodiscard]] const std::string& error() const { return error_; }

private:
  Result(std::optional<T> v, std::string e) : value_(std::move(v)), error_(std::move(e)) {}
  std::optional<T> value_;
  std::string error_;
};

struct QueryOptions {
  // Safe to run twice: after a broken connection the job is retried once on a fresh one
  // instead of failing.
  bool idempotent = false;
};

// How a durable write ended. The status decides what a caller may do next: a failed job would
// fail again (its own error), an unreachable one was not stored and may be kept elsewhere (the
// journal's spool) until PostgreSQL is back, one in doubt may or may not be stored (whatever
// keeps it must be idempotent).
enum class WriteStatus {
  committed,
  failed,       // the job threw, its COMMIT was refused, or the schema could not be migrated
  unreachable,  // no connection, lost before COMMIT, or the database layer is shutting down
  in_doubt,     // the connection broke during COMMIT
};
std::string_view to_string(WriteStatus s);

struct WriteOutcome {
  WriteStatus status = WriteStatus::committed;
  std::string error;  // empty when committed
  [[nodiscard]] bool ok() const { return status == WriteStatus::committed; }
};

// A durable write. `run` executes inside the batch's transaction and must only touch the
// database through it: it may run more than once (a failed batch is rolled back and its jobs
// are run again), so it must not consume external state. Throwing fails the job.
struct WriteJob {
  std::function<void(pqxx::dbtransaction&)> run;
  // Posted to the loop once the job is committed or has not been. Optional.
  std::function<void(WriteOutcome)> done;
};

namespace detail {
class Link;
}

// A connection of its own for a plugin's worker thread (the email sender claims and records
// its sends on one): same conninfo and statement timeout as the database's own, reconnected
// with the same backoff. One thread only; destroy it before the Database.
class OwnConnection {
public:
  explicit OwnConnection(std::unique_ptr<detail::Link> link);
  ~OwnConnection();
  OwnConnection(const OwnConnection&) = delete;
  OwnConnection& operator=(const OwnConnection&) = delete;
  // The connection, or nullptr while PostgreSQL is away and a reconnect is not due yet.
  pqxx::connection_base* get();
  // After an error that broke it (pqxx::broken_connection): the next get() reconnects.
  void drop();
  [[nodiscard]] const std::string& last_error() const;

private:
  std::unique_ptr<detail::Link> link_;
};

class Database {
public:
  // Starts the threads. `io` and `metrics` must outlive this object. Throws
  // std::invalid_argument if the conninfo does not parse; never because PostgreSQL is down.
  Database(boost::asio::io_context& io, Metrics& metrics, Options options);
  // stop(): blocks until queued writes are flushed (or failed) and the threads are gone.
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs `job(conn)` on a reader thread; `done(Result<T>)` runs on the loop. A job's exception
  // becomes the error. Callable from any thread.
  template <typename Job, typename T = std::invoke_result_t<Job&, pqxx::connection_base&>>
  void query(Job job, std::type_identity_t<std::function<void(Result<T>)>> done,
             QueryOptions options = {});

  // Queues a durable write (any thread). Jobs run and complete in queue order.
  void write(WriteJob job);

  // Loop thread only. True when the last SELECT 1 succeeded and the schema is migrated.
  [[nodiscard]] bool healthy() const;
  // Loop thread only. Called on the loop whenever healthy() changes.
  void on_health_change(std::function<void(bool healthy)> callback);
  // Loop thread only. Called on the loop once migrations have finished (ok or fatal; a fatal
  // result means salond must exit 3). Called at once if they already have; never when
  // Options::schema_dir is unset. Until then queries fail ("not migrated yet") and writes wait
  // behind the migration, so the core should start loading state from this callback.
  void on_migrations(std::function<void(const MigrationResult&)> callback);

  [[nodiscard]] std::size_t write_queue_depth() const;  // any thread

  // A dedicated connection (see OwnConnection); `role` names it in pg_stat_activity.
  [[nodiscard]] std::unique_ptr<OwnConnection> own_connection(std::string_view role);

  // Stops accepting work, flushes queued writes, fails queued queries, joins the threads.
  // Blocks the caller (meant for shutdown). Idempotent.
  void stop();

private:
  void submit(detail::QueryTask task);

  std::unique_ptr<detail::Engine> engine_;
};

template <typename Job, typename T>
void Database::query(Job job, std::type_identity_t<std::function<void(Result<T>)>> done,
                     QueryOptions options) {
  using detail::Completion;
  auto on_done = std::make_shared<std::function<void(Result<T>)>>(std::move(done));
  detail::QueryTask task;
  task.run = [job = std::move(job), on_done](pqxx::connection_base& conn) -> Completion {
    auto result = std::make_shared<Result<T>>(Result<T>::success(job(conn)));
    return [on_done, result] { (*on_done)(std::move(*result)); };
  };
  task.fail = [on_done](std::string error) -> Completion {
    return [on_done, error = std::move(error)] { (*on_done)(Result<T>::failure(error)); };
  };
  task.idempotent = options.idempotent;
  submit(std::move(task));
}

}  // namespace salon::db
