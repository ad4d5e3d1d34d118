// SPDX-License-Identifier: GPL-3.0-or-later
// Reader threads: each takes query jobs from the shared queue and runs them on its own
// connection; results and errors are posted to the loop.
#include <fmt/format.h>

#include <pqxx/except>

#include "core/log.hpp"
#include "db/engine.hpp"
#include "db/link.hpp"

namespace salon::db::detail {
namespace {

void fail(Engine& e, QueryTask& task, std::string error) {
  e.metrics.query_errors.inc();
  log::debug("db", "query failed: {}", error);
  e.post(task.fail(std::move(error)));
}

// Queries need the schema in place: until migrations are done they fail rather than wait, so
// the loop never piles up work behind a database that is not there.
std::optional<std::string> schema_problem(const Engine& e) {
  switch (e.schema.load(std::memory_order_acquire)) {
    case SchemaState::ready: return std::nullopt;
    case SchemaState::pending: return "PostgreSQL unavailable: the schema is not migrated yet";
    case SchemaState::failed: return "PostgreSQL unavailable: " + e.schema_error;
  }
  return std::nullopt;
}

void run_query(Engine& e, Link& link, QueryTask& task) {
  if (auto problem = schema_problem(e)) return fail(e, task, std::move(*problem));
  for (int attempt = 0;; ++attempt) {
    pqxx::connection_base* conn = attempt == 0 ? link.get() : link.reconnect_now();
    if (!conn) return fail(e, task, "PostgreSQL unavailable: " + link.last_error());
    try {
      e.post(task.run(*conn));
      return;
    } catch (const pqxx::broken_connection& ex) {
      link.drop();
      if (task.idempotent && attempt == 0) continue;  // once, on a fresh connection
      return fail(e, task, "PostgreSQL connection lost: " + trimmed(ex.what()));
    } catch (const std::exception& ex) {
      if (!conn->is_open()) link.drop();
      return fail(e, task, trimmed(ex.what()));
    } catch (...) {
      return fail(e, task, "query job threw a non-standard exception");
    }
  }
}

}  // namespace

void run_reader(Engine& e, std::size_t index) {
  Link link(e, fmt::format("reader-{}", index));
  link.get();  // connect before the first query arrives
  for (;;) {
    QueryTask task;
    {
      std::unique_lock lock(e.mutex);
      const auto ready = [&] { return e.stopping || !e.queries.empty(); };
      if (link.connected())
        e.reader_cv.wait(lock, ready);
      else
        e.reader_cv.wait_until(lock, link.next_attempt(),
                               [&] { return ready() || link.server_came_back(); });
      if (e.stopping) return;  // stop() fails what is left
      if (e.queries.empty()) {
        lock.unlock();
        link.get();  // a reconnect is due (or PostgreSQL is back): connect while idle
        continue;
      }
      task = std::move(e.queries.front());
      e.queries.pop_front();
    }
    run_query(e, link, task);
  }
}

}  // namespace salon::db::detail
