// SPDX-License-Identifier: GPL-3.0-or-later
#include "db/link.hpp"

#include <pqxx/nontransaction>

#include "core/log.hpp"
#include "db/conninfo.hpp"
#include "db/engine.hpp"

namespace salon::db::detail {
namespace {

// libpq's connection errors span lines ("...refused\n\tIs the server running..."): one log line.
std::string one_line(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  return trimmed(std::move(out));
}

}  // namespace

// Server notices (e.g. "relation already exists, skipping") go to our log, not to stderr.
class Link::NoticeLog final : public pqxx::errorhandler {
public:
  NoticeLog(pqxx::connection_base& conn, std::string role)
      : pqxx::errorhandler(conn), role_(std::move(role)) {}
  bool operator()(const char msg[]) noexcept override {
    try {
      log::debug("db", "{}: {}", role_, trimmed(msg));
    } catch (...) {
    }
    return false;
  }

private:
  std::string role_;
};

Link::Link(Engine& engine, std::string_view role)
    : engine_(engine),
      role_(role),
      conninfo_(conninfo_with(
          engine.conninfo, {{"application_name",
                             conninfo_get(engine.conninfo, "application_name").value_or("salond") +
                                 "/" + std::string(role)}})),
      backoff_(engine.options.reconnect_initial, engine.options.reconnect_max),
      generation_(engine.up_generation.load()) {}

Link::~Link() {
  drop();
}

bool Link::server_came_back() const {
  return !conn_ && engine_.up_generation.load() != generation_;
}

pqxx::connection_base* Link::get() {
  if (conn_) return conn_.get();
  const auto now = std::chrono::steady_clock::now();
  if (const auto g = engine_.up_generation.load(); g != generation_) {
    generation_ = g;  // the health checker saw PostgreSQL come back: no need to wait
    backoff_.reset();
    next_ = now;
  }
  if (now < next_) return nullptr;
  return attempt();
}

pqxx::connection_base* Link::reconnect_now() {
  drop();
  return attempt();
}

void Link::drop() {
  notices_.reset();
  conn_.reset();
}

pqxx::connection_base* Link::attempt() {
  try {
    conn_ = std::make_unique<pqxx::connection>(conninfo_);
    notices_ = std::make_unique<NoticeLog>(*conn_, role_);
    if (const auto ms = engine_.options.statement_timeout.count(); ms > 0) {
      pqxx::nontransaction tx(*conn_, "statement_timeout");
      tx.exec("SET statement_timeout = " + std::to_string(ms));  // an integer: no quoting
    }
    backoff_.reset();
    log::debug("db", "{}: connected", role_);
    return conn_.get();
  } catch (const std::exception& e) {
    conn_.reset();
    last_error_ = one_line(e.what());
    next_ = std::chrono::steady_clock::now() + backoff_.next();
    engine_.metrics.connect_errors.inc();
    log::debug("db", "{}: connection failed: {}", role_, last_error_);
    return nullptr;
  }
}

}  // namespace salon::db::detail
