// SPDX-License-Identifier: GPL-3.0-or-later
#include "retention.hpp"

#include <pqxx/pqxx>

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "db/database.hpp"
#include "http/http.hpp"
#include "store.hpp"

namespace salon::archive {
namespace {

constexpr std::int64_t kBatch = 5000;

// Deletes expired rows room by room; returns how many.
std::int64_t purge_expired(pqxx::connection_base& c, std::int64_t global_days) {
  std::vector<std::pair<std::int64_t, std::int64_t>> rooms;
  {
    pqxx::read_transaction tx(c, "retention_rooms");
    // $1 = 0: no global retention. A room's row overrides it (NULL days = forever).
    for (const auto& r : tx.exec_params(
             "SELECT id, days FROM (SELECT r.id, CASE WHEN rr.room_id IS NULL "
             "THEN NULLIF($1::integer, 0) ELSE rr.days END AS days FROM rooms r "
             "LEFT JOIN archive_retention rr ON rr.room_id = r.id) x WHERE days IS NOT NULL",
             global_days))
      rooms.emplace_back(r[0].as<std::int64_t>(), r[1].as<std::int64_t>());
  }
  std::int64_t total = 0;
  for (const auto& [room, days] : rooms) {
    for (;;) {
      pqxx::work tx(c, "retention_purge");
      const std::int64_t n = delete_batch(tx, room, days, kBatch);
      tx.commit();
      total += n;
      if (n < kBatch) break;
    }
  }
  return total;
}

std::optional<std::int64_t> room_id(pqxx::transaction_base& tx, const std::string& project) {
  const auto r = tx.exec_params("SELECT id FROM rooms WHERE jid_local = $1", project);
  if (r.empty()) return std::nullopt;
  return r[0][0].as<std::int64_t>();
}

http::Response not_found() {
  return http::problem(404, "Not Found", "no such project");
}
http::Response unavailable(const std::string& e) {
  return http::problem(503, "Service Unavailable", "the archive is unavailable: " + e);
}

// GET/PUT/DELETE share one shape: a job that answers a JSON body, or nullopt for 404.
using Job = std::function<std::optional<std::string>(pqxx::connection_base&)>;
void run(db::Database& db, Job job, http::Respond respond) {
  db.query(std::move(job), [respond](db::Result<std::optional<std::string>> r) {
    if (!r) return respond(unavailable(r.error()));
    if (!r.value()) return respond(not_found());
    respond(http::json(200, *r.value()));
  });
}

// `days`: the room's own setting (nullopt: none, inherit; "" : forever).
std::string days_json(const std::optional<std::string>& days, std::size_t global_days) {
  if (!days)
    return "{\"days\":" + (global_days ? std::to_string(global_days) : "null") +
           ",\"inherited\":true}";
  return "{\"days\":" + (days->empty() ? "null" : *days) + ",\"inherited\":false}";
}

// `global_days` is shared: the routes outlive this object (the HTTP server keeps them).
void add_routes(plugin::Host& host, std::shared_ptr<const std::size_t> global_days) {
  db::Database& db = host.database();
  const std::string route = "/api/v1/projects/{id}/retention";
  host.add_http_route(
      "GET", route, [&db, global_days](const http::Request& req, http::Respond respond) {
        run(
            db,
            [project = req.params.at("id"),
             g = *global_days](pqxx::connection_base& c) -> std::optional<std::string> {
              pqxx::read_transaction tx(c);
              const auto id = room_id(tx, project);
              if (!id) return std::nullopt;
              const auto r = tx.exec_params(
                  "SELECT coalesce(days::text, '') FROM archive_retention WHERE room_id = $1", *id);
              if (r.empty()) return days_json(std::nullopt, g);
              return days_json(r[0][0].as<std::string>(), g);
            },
            std::move(respond));
      });
  host.add_http_route("PUT", route, [&db](const http::Request& req, http::Respond respond) {
    const auto body = parse_days_body(req.body);
    if (!body)
      return respond(http::problem(
          400, "Bad Request", "expected {\"days\": N} (1..36500) or {\"days\": null}", "days"));
    run(
        db,
        [project = req.params.at("id"),
         days = body->days](pqxx::connection_base& c) -> std::optional<std::string> {
          pqxx::work tx(c);
          const auto id = room_id(tx, project);
          if (!id) return std::nullopt;
          const std::string d = days ? std::to_string(*days) : std::string();
          tx.exec_params0(
              "INSERT INTO archive_retention (room_id, days) "
              "VALUES ($1, NULLIF($2, '')::integer) ON CONFLICT (room_id) "
              "DO UPDATE SET days = excluded.days",
              *id, d);
          tx.commit();
          return "{\"days\":" + (days ? d : "null") + ",\"inherited\":false}";
        },
        std::move(respond));
  });
  host.add_http_route(
      "DELETE", route, [&db, global_days](const http::Request& req, http::Respond respond) {
        run(
            db,
            [project = req.params.at("id"),
             g = *global_days](pqxx::connection_base& c) -> std::optional<std::string> {
              pqxx::work tx(c);
              const auto id = room_id(tx, project);
              if (!id) return std::nullopt;
              tx.exec_params0("DELETE FROM archive_retention WHERE room_id = $1", *id);
              tx.commit();
              return days_json(std::nullopt, g);
            },
            std::move(respond));
      });
}

}  // namespace

Retention::Retention(plugin::Host& host, std::size_t global_days, std::chrono::seconds interval)
    : host_(host),
      timer_(host.loop()),
      global_days_(std::make_shared<std::size_t>(global_days)),
      interval_(interval),
      purged_(host.metrics().counter("salon_archive_purged_total",
                                     "Archived messages deleted by retention or the API")) {
  add_routes(host, global_days_);
  schedule(std::min(interval_, std::chrono::seconds(10)));  // soon after start, then periodic
}

Retention::~Retention() {
  timer_.cancel();
}

void Retention::set(std::size_t global_days, std::chrono::seconds interval) {
  *global_days_ = global_days;
  if (interval != interval_) {
    interval_ = interval;
    if (!running_) schedule(interval_);
  }
}

void Retention::schedule(std::chrono::seconds after) {
  timer_.expires_after(after);
  timer_.async_wait([this, life = std::weak_ptr<int>(alive_)](boost::system::error_code ec) {
    if (!ec && !life.expired()) purge();
  });
}

void Retention::purge() {
  running_ = true;
  const auto g = static_cast<std::int64_t>(*global_days_);
  host_.database().query([g](pqxx::connection_base& c) { return purge_expired(c, g); },
                         [this, life = std::weak_ptr<int>(alive_)](db::Result<std::int64_t> r) {
                           if (life.expired()) return;
                           running_ = false;
                           if (!r)
                             log::warn("archive", "retention purge failed: {}", r.error());
                           else if (r.value() > 0) {
                             purged_.inc(static_cast<std::uint64_t>(r.value()));
                             log::info("archive", "retention purged {} message(s)", r.value());
                           }
                           schedule(interval_);
                         },
                         db::QueryOptions{.idempotent = true});
}

}  // namespace salon::archive
