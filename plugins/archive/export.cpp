// SPDX-License-Identifier: GPL-3.0-or-later
#include "export.hpp"

#include <pqxx/pqxx>

#include "core/log.hpp"
#include "core/stamp.hpp"
#include "db/database.hpp"
#include "http/http.hpp"
#include "store.hpp"

namespace salon::archive {
namespace {

constexpr std::size_t kPage = 500;          // transcript rows per query
constexpr std::int64_t kPurgeBatch = 5000;  // rows per DELETE transaction: short locks

struct RoomRef {
  std::int64_t id = 0;
  std::string name;
};

std::optional<RoomRef> find_room(pqxx::connection_base& conn, const std::string& project) {
  pqxx::read_transaction tx(conn, "archive_room");
  const auto r = tx.exec_params("SELECT id, name FROM rooms WHERE jid_local = $1", project);
  if (r.empty()) return std::nullopt;
  return RoomRef{r[0][0].as<std::int64_t>(), r[0][1].as<std::string>()};
}

std::vector<TranscriptRow> read_page(pqxx::connection_base& conn, std::int64_t room,
                                     std::int64_t after) {
  pqxx::read_transaction tx(conn, "transcript");
  const auto rows = tx.exec_params(
      "SELECT id, stanza_id, (extract(epoch FROM ts) * 1000000)::bigint, kind, nick, "
      "sender_jid, body, coalesce(replaces, ''), tombstone FROM archive "
      "WHERE room_id = $1 AND id > $2 ORDER BY id LIMIT $3",
      room, after, static_cast<std::int64_t>(kPage));
  std::vector<TranscriptRow> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    TranscriptRow t;
    t.id = r[0].as<std::int64_t>();
    t.stanza_id = r[1].as<std::string>();
    t.ts_us = r[2].as<std::int64_t>();
    t.kind = r[3].as<std::string>();
    t.nick = r[4].as<std::string>();
    t.sender_jid = r[5].as<std::string>();
    t.has_body = !r[6].is_null();
    if (t.has_body) t.body = r[6].as<std::string>();
    t.replaces = r[7].as<std::string>();
    t.retracted = r[8].as<bool>();
    out.push_back(std::move(t));
  }
  return out;
}

// Produces the transcript a page at a time: the next page is read once the previous chunk
// has been written to the socket.
class Transcript : public std::enable_shared_from_this<Transcript> {
public:
  Transcript(db::Database& db, RoomRef room, std::string project, bool html, http::ChunkWriter w)
      : db_(db), room_(std::move(room)), project_(std::move(project)), html_(html), w_(w) {}

  void start() {
    w_.write(html_ ? transcript_html_head(project_, room_.name)
                   : "{\"project\":\"" + json_escape(project_) + "\",\"messages\":[",
             [self = shared_from_this()](bool ok) {
               if (ok) self->next();
             });
  }

private:
  void next() {
    const std::int64_t room = room_.id, after = after_;
    db_.query([room, after](pqxx::connection_base& c) { return read_page(c, room, after); },
              [self = shared_from_this()](db::Result<std::vector<TranscriptRow>> r) {
                self->page(std::move(r));
              },
              db::QueryOptions{.idempotent = true});
  }

  void page(db::Result<std::vector<TranscriptRow>> r) {
    if (!r) {
      // The status line is long gone: dropping the writer closes the connection, so the
      // client sees a truncated body, never a complete-looking one.
      log::warn("archive", "transcript of {} failed: {}", project_, r.error());
      return;
    }
    auto& rows = r.value();
    if (rows.empty()) {
      w_.write(html_ ? "</table>\n</body></html>\n" : "\n]}\n");
      return w_.finish();
    }
    std::string chunk;
    for (const auto& row : rows) {
      chunk += html_ ? transcript_html_row(row) : transcript_json_row(row, first_);
      first_ = false;
    }
    after_ = rows.back().id;
    w_.write(std::move(chunk), [self = shared_from_this()](bool ok) {
      if (ok) self->next();
    });
  }

  db::Database& db_;
  RoomRef room_;
  std::string project_;
  bool html_;
  http::ChunkWriter w_;
  std::int64_t after_ = 0;
  bool first_ = true;
};

http::Response unavailable(const std::string& error) {
  return http::problem(503, "Service Unavailable", "the archive is unavailable: " + error);
}

constexpr const char* kTranscriptCsp =
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

void transcript(db::Database& db, const http::Request& req, http::Respond respond) {
  const std::string project = req.params.at("id");
  const std::string format = req.has_query_param("format") ? req.query_param("format") : "json";
  if (format != "json" && format != "html")
    return respond(http::problem(400, "Bad Request", "format must be json or html", "format"));
  db.query([project](pqxx::connection_base& c) { return find_room(c, project); },
           [&db, respond, project, html = format == "html"](db::Result<std::optional<RoomRef>> r) {
             if (!r) return respond(unavailable(r.error()));
             if (!r.value()) return respond(http::problem(404, "Not Found", "no such project"));
             RoomRef room = *r.value();
             auto res =
                 http::streamed(200, html ? "text/html; charset=utf-8" : "application/json",
                                [&db, room, project, html](http::ChunkWriter w) {
                                  std::make_shared<Transcript>(db, room, project, html, w)->start();
                                });
             // The page is users' words: were anything to slip through the escaping, nothing in
             // it may run, load, submit or be framed.
             if (html) res.headers.emplace_back("Content-Security-Policy", kTranscriptCsp);
             respond(std::move(res));
           },
           db::QueryOptions{.idempotent = true});
}

void purge(db::Database& db, const http::Request& req, http::Respond respond) {
  const std::string project = req.params.at("id");
  db.query(
      [project](pqxx::connection_base& c) -> std::optional<std::int64_t> {
        const auto room = find_room(c, project);
        if (!room) return std::nullopt;
        std::int64_t total = 0;
        for (;;) {
          pqxx::work tx(c, "archive_purge");
          const std::int64_t n = delete_batch(tx, room->id, 0, kPurgeBatch);
          tx.commit();
          total += n;
          if (n < kPurgeBatch) return total;
        }
      },
      [respond, project](db::Result<std::optional<std::int64_t>> r) {
        if (!r) return respond(unavailable(r.error()));
        if (!r.value()) return respond(http::problem(404, "Not Found", "no such project"));
        log::info("archive", "purged {} message(s) of project {}", *r.value(), project);
        respond(http::json(200, "{\"deleted\":" + std::to_string(*r.value()) + "}"));
      },
      db::QueryOptions{.idempotent = true});
}

}  // namespace

void add_http_routes(plugin::Host& host) {
  db::Database& db = host.database();
  host.add_http_route("GET", "/api/v1/projects/{id}/transcript",
                      [&db](const http::Request& req, http::Respond respond) {
                        transcript(db, req, std::move(respond));
                      });
  host.add_http_route("DELETE", "/api/v1/projects/{id}/messages",
                      [&db](const http::Request& req, http::Respond respond) {
                        purge(db, req, std::move(respond));
                      });
}

}  // namespace salon::archive
