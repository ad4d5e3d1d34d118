// SPDX-License-Identifier: GPL-3.0-or-later
#include "db/database.hpp"

#include <fmt/format.h>

#include "core/log.hpp"
#include "db/conninfo.hpp"
#include "db/engine.hpp"
#include "db/link.hpp"

namespace salon::db {
namespace detail {

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r'))
    s.pop_back();
  return s;
}

void LoopState::update() {
  if (up_gauge) up_gauge->set(pg_up ? 1 : 0);
  const bool now = pg_up && schema_ready;
  if (now == healthy) return;
  healthy = now;
  if (on_health) on_health(now);
}

DbMetrics::DbMetrics(Metrics& m)
    : queue_depth(m.gauge("salon_db_write_queue_depth",
                          "Durable writes queued for the PostgreSQL writer thread")),
      batch_size(m.histogram("salon_db_write_batch_size",
                             "Write jobs per committed PostgreSQL transaction (group commit)",
                             {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000})),
      commit_duration(
          m.histogram("salon_db_commit_duration_seconds", "Time taken by COMMIT of a write batch")),
      write_latency(m.histogram("salon_db_write_latency_seconds",
                                "From queueing a durable write to its completion")),
      up(m.gauge("salon_db_up", "1 when the last PostgreSQL health check succeeded")),
      connect_errors(m.counter("salon_db_errors_total", "PostgreSQL errors by operation",
                               {{"op", "connect"}})),
      query_errors(
          m.counter("salon_db_errors_total", "PostgreSQL errors by operation", {{"op", "query"}})),
      queries_refused(m.counter("salon_db_queries_refused_total",
                                "Queries failed at once because too many waited for a reader")),
      write_errors(
          m.counter("salon_db_errors_total", "PostgreSQL errors by operation", {{"op", "write"}})),
      health_errors(m.counter("salon_db_errors_total", "PostgreSQL errors by operation",
                              {{"op", "health"}})) {}

Engine::Engine(boost::asio::io_context& io_, Metrics& m, Options opts)
    : io(io_),
      options(std::move(opts)),
      conninfo(conninfo_with_defaults(
          options.conninfo, {{"connect_timeout", std::to_string(std::max<long>(
                                                     2, options.connect_timeout.count()))}})),
      metrics(m),
      schema(options.schema_dir ? SchemaState::pending : SchemaState::ready) {
  loop->up_gauge = &metrics.up;
  loop->schema_ready = !options.schema_dir.has_value();
}

void Engine::wake_all() {
  reader_cv.notify_all();
  writer_cv.notify_all();
  health_cv.notify_all();
}

void Engine::post_pg_up(bool up) {
  post([loop = loop, up] {
    loop->pg_up = up;
    loop->update();
  });
}

void Engine::post_migrations(MigrationResult result) {
  post([loop = loop, result = std::move(result)] {
    loop->migrations = result;
    loop->schema_ready = result.ok();
    loop->update();
    if (loop->on_migrations) loop->on_migrations(result);
  });
}

}  // namespace detail

Database::Database(boost::asio::io_context& io, Metrics& metrics, Options options)
    : engine_(std::make_unique<detail::Engine>(io, metrics, std::move(options))) {
  auto& e = *engine_;
  e.threads.emplace_back(detail::run_health, std::ref(e));
  e.threads.emplace_back(detail::run_writer, std::ref(e));
  for (std::size_t i = 0; i < std::max<std::size_t>(1, e.options.readers); ++i)
    e.threads.emplace_back(detail::run_reader, std::ref(e), i);
}

Database::~Database() {
  stop();
}

void Database::stop() {
  auto& e = *engine_;
  std::lock_guard stop_lock(e.stop_mutex);
  if (e.stopped) return;
  {
    std::lock_guard lock(e.mutex);
    e.stopping = true;
  }
  e.wake_all();
  for (auto& t : e.threads)
    t.join();  // the writer flushes its queue first
  e.threads.clear();
  std::deque<detail::QueryTask> left;
  {
    std::lock_guard lock(e.mutex);
    left.swap(e.queries);
  }
  for (auto& task : left)
    e.post(task.fail("the database layer is shutting down"));
  e.metrics.queue_depth.set(0);
  e.stopped = true;
}

void Database::submit(detail::QueryTask task) {
  auto& e = *engine_;
  {
    std::lock_guard lock(e.mutex);
    if (!e.stopping && e.queries.size() < e.options.max_queued_queries) {
      e.queries.push_back(std::move(task));
      e.reader_cv.notify_one();
      return;
    }
    if (!e.stopping) {
      e.metrics.queries_refused.inc();
      e.post(task.fail(
          fmt::format("too many queued queries ({} wait for a reader)", e.queries.size())));
      return;
    }
  }
  e.post(task.fail("the database layer is shutting down"));
}

void Database::write(WriteJob job) {
  auto& e = *engine_;
  {
    std::lock_guard lock(e.mutex);
    if (!e.stopping) {
      e.writes.push_back({std::move(job), std::chrono::steady_clock::now()});
      e.metrics.queue_depth.set(static_cast<double>(e.writes.size()));
      e.writer_cv.notify_one();
      return;
    }
  }
  if (job.done)
    e.post([done = std::move(job.done)] {
      done({WriteStatus::unreachable, "the database layer is shutting down"});
    });
}

std::string_view to_string(WriteStatus s) {
  switch (s) {
    case WriteStatus::committed: return "committed";
    case WriteStatus::failed: return "failed";
    case WriteStatus::unreachable: return "unreachable";
    case WriteStatus::in_doubt: return "in doubt";
  }
  return "failed";
}

bool Database::healthy() const {
  return engine_->loop->healthy;
}

void Database::on_health_change(std::function<void(bool)> callback) {
  engine_->loop->on_health = std::move(callback);
}

void Database::on_migrations(std::function<void(const MigrationResult&)> callback) {
  auto& loop = *engine_->loop;
  loop.on_migrations = std::move(callback);
  if (loop.migrations && loop.on_migrations) loop.on_migrations(*loop.migrations);
}

OwnConnection::OwnConnection(std::unique_ptr<detail::Link> link) : link_(std::move(link)) {}
OwnConnection::~OwnConnection() = default;
pqxx::connection_base* OwnConnection::get() {
  return link_->get();
}
void OwnConnection::drop() {
  link_->drop();
}
const std::string& OwnConnection::last_error() const {
  return link_->last_error();
}

std::unique_ptr<OwnConnection> Database::own_connection(std::string_view role) {
  return std::make_unique<OwnConnection>(std::make_unique<detail::Link>(*engine_, role));
}

std::size_t Database::write_queue_depth() const {
  std::lock_guard lock(engine_->mutex);
  return engine_->writes.size();
}

}  // namespace salon::db
