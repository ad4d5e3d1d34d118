// SPDX-License-Identifier: GPL-3.0-or-later
// The health checker: SELECT 1 every health_interval on a connection of its own, so a busy
// writer or reader never delays /readyz. Logs once per state change, not per attempt.
#include <pqxx/except>
#include <pqxx/nontransaction>

#include "core/log.hpp"
#include "db/engine.hpp"
#include "db/link.hpp"

namespace salon::db::detail {
namespace {

bool select_one(pqxx::connection_base& conn, std::string& error) {
  try {
    pqxx::nontransaction tx(conn, "health");
    tx.exec("SELECT 1");
    return true;
  } catch (const std::exception& ex) {
    error = trimmed(ex.what());
    return false;
  }
}

bool check(Link& link, std::string& error) {
  if (link.connected()) {
    if (select_one(*link.get(), error)) return true;
  }
  // Not connected, or the connection died (e.g. PostgreSQL restarted): a fresh connection
  // tells whether the server is there now.
  pqxx::connection_base* conn = link.reconnect_now();
  if (!conn) {
    error = link.last_error();
    return false;
  }
  if (select_one(*conn, error)) return true;
  link.drop();
  return false;
}

}  // namespace

void run_health(Engine& e) {
  Link link(e, "health");
  std::optional<bool> last;
  for (;;) {
    std::string error;
    const bool up = check(link, error);
    if (!up) e.metrics.health_errors.inc();
    if (last != up) {
      if (up) {
        log::info("db", "PostgreSQL is reachable");
        e.up_generation.fetch_add(1);
        e.wake_all();  // workers in a reconnect backoff connect now
      } else {
        log::warn("db", "PostgreSQL is unreachable (will keep retrying): {}", error);
      }
      e.post_pg_up(up);
      last = up;
    }
    std::unique_lock lock(e.mutex);
    if (e.health_cv.wait_for(lock, e.options.health_interval, [&] { return e.stopping; })) return;
  }
}

}  // namespace salon::db::detail
