// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to server/db: one worker thread's PostgreSQL connection, reconnected with backoff.
// While a reconnect is not due, get() returns nullptr at once, so work fails fast instead of
// queueing behind a dead server (the archive spools to disk on such errors).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <pqxx/connection>
#include <pqxx/errorhandler>

#include "core/backoff.hpp"

namespace salon::db::detail {

struct Engine;

class Link {
public:
  // `role` names the connection in pg_stat_activity: application_name "<name>/<role>".
  Link(Engine& engine, std::string_view role);
  ~Link();
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  // The connection, or one connection attempt if the backoff allows it; nullptr otherwise.
  pqxx::connection_base* get();
  // One connection attempt now, whatever the backoff says.
  pqxx::connection_base* reconnect_now();
  void drop();
  [[nodiscard]] bool connected() const { return conn_ != nullptr; }
  [[nodiscard]] std::chrono::steady_clock::time_point next_attempt() const { return next_; }
  [[nodiscard]] const std::string& last_error() const { return last_error_; }
  // True when not connected and the health checker has seen PostgreSQL come back since: wake
  // up and connect without waiting out the backoff.
  [[nodiscard]] bool server_came_back() const;

private:
  class NoticeLog;
  pqxx::connection_base* attempt();

  Engine& engine_;
  std::string role_;
  std::string conninfo_;
  Backoff backoff_;
  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<NoticeLog> notices_;
  std::chrono::steady_clock::time_point next_{};
  std::string last_error_ = "not connected yet";
  std::uint64_t generation_ = 0;
};

}  // namespace salon::db::detail
