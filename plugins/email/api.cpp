// SPDX-License-Identifier: GPL-3.0-or-later
// The email plugin's HTTP side (docs/openapi.yaml):
//   GET  /api/v1/users/{jid}/email   preferences, bounce state, pending and recent digests
//   PUT  /api/v1/users/{jid}/email   {"mode": "digest"|"off", "delay_seconds": n|null,
//                                     "muted_projects": [id...], "clear_bounce": true}
//   GET  /email/unsubscribe?jid=&token=   a confirmation page (a GET never unsubscribes: mail
//                                         scanners follow links)
//   POST /email/unsubscribe?jid=&token=   RFC 8058 one-click: email off for that member
// The /api/v1 routes run behind the API's bearer guard; the unsubscribe routes authenticate
// by the HMAC token in the link (token.hpp): a forged one, or one for another member, is 403.
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "core/jid.hpp"
#include "core/log.hpp"
#include "db/database.hpp"
#include "db/pg_array.hpp"
#include "email.hpp"
#include "http/http.hpp"
#include "token.hpp"

namespace salon::email {
namespace {

using nlohmann::json;

std::optional<std::string> bare_jid(std::string_view raw) {
  auto j = Jid::parse(raw);
  if (!j || j->local().empty()) return std::nullopt;
  return j->bare_str();
}

json read_state(pqxx::connection_base& conn, const std::string& jid) {
  pqxx::read_transaction tx(conn, "email-api-get");
  json out = {{"jid", jid}};
  const auto p = tx.exec_params("SELECT mode, delay_seconds FROM email_prefs WHERE jid = $1", jid);
  out["mode"] = p.empty() ? "digest" : p[0][0].as<std::string>();
  out["delay_seconds"] = p.empty() || p[0][1].is_null() ? json(nullptr) : json(p[0][1].as<int>());
  json muted = json::array();
  for (const auto& r :
       tx.exec_params("SELECT r.jid_local FROM email_mutes m JOIN rooms r ON r.id = m.room_id "
                      "WHERE m.jid = $1 ORDER BY 1",
                      jid))
    muted.push_back(r[0].as<std::string>());
  out["muted_projects"] = muted;
  const auto b = tx.exec_params(
      "SELECT address, reply, to_char(bounced_at AT TIME ZONE 'UTC', "
      "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM email_bounces WHERE jid = $1",
      jid);
  out["bounce"] = b.empty() ? json(nullptr)
                            : json{{"address", b[0][0].as<std::string>()},
                                   {"reply", b[0][1].as<std::string>()},
                                   {"at", b[0][2].as<std::string>()}};
  json pending = json::array();
  for (const auto& r :
       tx.exec_params("SELECT r.jid_local, to_char(e.since AT TIME ZONE 'UTC', "
                      "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), to_char(e.due_at AT TIME ZONE 'UTC', "
                      "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), e.claimed_by IS NOT NULL "
                      "FROM email_pending e JOIN rooms r ON r.id = e.room_id WHERE e.jid = $1 "
                      "ORDER BY e.due_at",
                      jid))
    pending.push_back({{"project", r[0].as<std::string>()},
                       {"since", r[1].as<std::string>()},
                       {"due_at", r[2].as<std::string>()},
                       {"claimed", r[3].as<bool>()}});
  out["pending"] = pending;
  json recent = json::array();
  for (const auto& r :
       tx.exec_params("SELECT id, state, subject, message_id, attempts, coalesce(last_error, ''), "
                      "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
                      "FROM email_outbox WHERE jid = $1 ORDER BY id DESC LIMIT 20",
                      jid))
    recent.push_back({{"id", r[0].as<std::int64_t>()},
                      {"state", r[1].as<std::string>()},
                      {"subject", r[2].as<std::string>()},
                      {"message_id", r[3].as<std::string>()},
                      {"attempts", r[4].as<int>()},
                      {"last_error", r[5].as<std::string>()},
                      {"created_at", r[6].as<std::string>()}});
  out["recent"] = recent;
  return out;
}

struct Change {
  std::optional<std::string> mode;
  bool set_delay = false;
  std::optional<int> delay;  // with set_delay: null resets to the default
  std::optional<std::vector<std::string>> muted;
  bool clear_bounce = false;
};

// The body, or a 400 naming the field.
std::variant<Change, http::Response> parse_change(const std::string& body) {
  const auto bad = [](std::string_view field, std::string_view why) {
    return http::problem(400, "Bad Request", why, field);
  };
  json j;
  try {
    j = json::parse(body, nullptr, true, false);
  } catch (const json::exception&) {
    return bad("", "the body is not JSON");
  }
  if (!j.is_object()) return bad("", "the body must be a JSON object");
  Change c;
  for (const auto& [key, v] : j.items()) {
    if (key == "mode") {
      if (!v.is_string() || (v != "digest" && v != "off"))
        return bad("mode", "must be \"digest\" or \"off\"");
      c.mode = v.get<std::string>();
    } else if (key == "delay_seconds") {
      c.set_delay = true;
      if (v.is_null()) continue;
      if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > 604800)
        return bad("delay_seconds", "an integer from 0 to 604800, or null for the default");
      c.delay = static_cast<int>(v.get<std::int64_t>());
    } else if (key == "muted_projects") {
      if (!v.is_array() || v.size() > 10000)
        return bad("muted_projects", "an array of project ids (at most 10000)");
      std::vector<std::string> ids;
      for (const auto& id : v) {
        if (!id.is_string() || id.get<std::string>().empty() || id.get<std::string>().size() > 1023)
          return bad("muted_projects", "each item is a project id");
        ids.push_back(id.get<std::string>());
      }
      c.muted = std::move(ids);
    } else if (key == "clear_bounce") {
      if (!v.is_boolean()) return bad("clear_bounce", "must be a boolean");
      c.clear_bounce = v.get<bool>();
    } else {
      return bad(key, "unknown field");
    }
  }
  return c;
}

// The writer thread: the preferences and what they mean for rows already pending (email off
// or a muted room: they go, or are flagged when a digest claimed them).
void apply(pqxx::dbtransaction& tx, const std::string& jid, const Change& c,
           std::vector<std::string>& unknown) {
  if (c.mode || c.set_delay) {
    tx.exec_params0(
        "INSERT INTO email_prefs (jid, mode, delay_seconds) VALUES ($1, coalesce($2, 'digest'), "
        "$3) "
        "ON CONFLICT (jid) DO UPDATE SET mode = coalesce($2, email_prefs.mode), "
        "delay_seconds = CASE WHEN $4 THEN $3 ELSE email_prefs.delay_seconds END, "
        "updated_at = now()",
        jid, c.mode, c.delay, c.set_delay);
  }
  if (c.muted) {
    db::ArrayText ids;
    for (const auto& id : *c.muted)
      ids.add(id);
    for (const auto& r : tx.exec_params("SELECT p FROM unnest($1::text[]) AS p WHERE NOT EXISTS "
                                        "(SELECT 1 FROM rooms WHERE jid_local = p)",
                                        ids.done()))
      unknown.push_back(r[0].as<std::string>());
    if (!unknown.empty()) return;  // the caller rolls back
    tx.exec_params0("DELETE FROM email_mutes WHERE jid = $1", jid);
    tx.exec_params0(
        "INSERT INTO email_mutes (room_id, jid) SELECT id, $1 FROM rooms "
        "WHERE jid_local = ANY($2::text[])",
        jid, ids.done());
  }
  if (c.clear_bounce) tx.exec_params0("DELETE FROM email_bounces WHERE jid = $1", jid);
  // Rows that the new preferences rule out.
  const char* dropped =
      "(EXISTS (SELECT 1 FROM email_prefs p WHERE p.jid = e.jid AND p.mode = 'off') "
      " OR EXISTS (SELECT 1 FROM email_mutes m WHERE m.jid = e.jid AND m.room_id = e.room_id))";
  tx.exec_params0(std::string("DELETE FROM email_pending e WHERE e.jid = $1 AND e.claimed_by IS "
                              "NULL AND ") +
                      dropped,
                  jid);
  tx.exec_params0(std::string("UPDATE email_pending e SET cancelled = true WHERE e.jid = $1 AND "
                              "e.claimed_by IS NOT NULL AND ") +
                      dropped,
                  jid);
}

const char* kPage = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>%TITLE%</title></head>
<body style="font-family:sans-serif;max-width:32em;margin:3em auto;padding:0 1em;color:#18181b">
%BODY%
</body></html>
)";

std::string page(std::string_view title, std::string_view body) {
  std::string out = kPage;
  out.replace(out.find("%TITLE%"), 7, title);
  out.replace(out.find("%BODY%"), 6, body);
  return out;
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

http::Response html(int status, std::string body) {
  return http::Response{status,
                        "text/html; charset=utf-8",
                        {{"Content-Security-Policy",
                          "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"},
                         {"Referrer-Policy", "no-referrer"}},
                        std::move(body)};
}

}  // namespace

void EmailPlugin::add_routes() {
  plugin::Host& host = *host_;
  std::weak_ptr<int> life = alive_;
  host.add_http_route(
      "GET", "/api/v1/users/{jid}/email",
      [this, life](const http::Request& req, http::Respond respond) {
        const auto jid = bare_jid(req.params.at("jid"));
        if (!jid) return respond(http::problem(400, "Bad Request", "not a bare JID", "jid"));
        host_->database().query(
            [jid = *jid](pqxx::connection_base& conn) { return read_state(conn, jid).dump(); },
            [respond](db::Result<std::string> r) {
              if (!r)
                return respond(
                    http::problem(503, "Service Unavailable", "the database did not answer"));
              respond(http::json(200, r.value()));
            },
            db::QueryOptions{.idempotent = true});
      });
  host.add_http_route(
      "PUT", "/api/v1/users/{jid}/email",
      [this, life](const http::Request& req, http::Respond respond) {
        const auto jid = bare_jid(req.params.at("jid"));
        if (!jid) return respond(http::problem(400, "Bad Request", "not a bare JID", "jid"));
        auto parsed = parse_change(req.body);
        if (auto* r = std::get_if<http::Response>(&parsed)) return respond(std::move(*r));
        auto change = std::make_shared<Change>(std::get<Change>(std::move(parsed)));
        auto unknown = std::make_shared<std::vector<std::string>>();
        host_->database().write(db::WriteJob{
            [jid = *jid, change, unknown](pqxx::dbtransaction& tx) {
              unknown->clear();
              apply(tx, jid, *change, *unknown);
              if (!unknown->empty()) throw std::invalid_argument("unknown project");
            },
            [this, life, jid = *jid, change, unknown, respond](db::WriteOutcome o) {
              if (!unknown->empty())
                return respond(http::problem(
                    404, "Not Found", "no such project: " + unknown->front(), "muted_projects"));
              if (!o.ok())
                return respond(http::problem(503, "Service Unavailable",
                                             "the preferences could not be stored"));
              if (life.expired())
                return respond(http::problem(503, "Service Unavailable", "stopping"));
              forget(jid);
              host_->database().query(
                  [jid](pqxx::connection_base& conn) { return read_state(conn, jid).dump(); },
                  [respond](db::Result<std::string> r) {
                    if (!r) return respond(http::json(200, "{}"));
                    respond(http::json(200, r.value()));
                  },
                  db::QueryOptions{.idempotent = true});
            }});
      });

  const auto token_check = [this](const http::Request& req) -> std::optional<std::string> {
    const auto jid = bare_jid(req.query_param("jid"));
    if (!jid || !unsubscribe_token_ok(settings_.link_secret, *jid, req.query_param("token")))
      return std::nullopt;
    return jid;
  };
  host.add_public_http_route(
      "GET", "/email/unsubscribe", [token_check](const http::Request& req, http::Respond respond) {
        const auto jid = token_check(req);
        if (!jid)
          return respond(
              html(403, page("Link not valid", "<p>This unsubscribe link is not valid.</p>")));
        const std::string action =
            "?jid=" + percent_encode(*jid) + "&amp;token=" + html_escape(req.query_param("token"));
        respond(html(
            200, page("Stop emails", "<p>Stop the email digests for <strong>" + html_escape(*jid) +
                                         "</strong>?</p><form method=\"post\" action=\"" + action +
                                         "\"><input type=\"hidden\" "
                                         "name=\"List-Unsubscribe\" value=\"One-Click\">"
                                         "<button type=\"submit\">Stop emails</button>"
                                         "</form>")));
      });
  host.add_public_http_route(
      "POST", "/email/unsubscribe",
      [this, life, token_check](const http::Request& req, http::Respond respond) {
        const auto jid = token_check(req);
        if (!jid)
          return respond(
              html(403, page("Link not valid", "<p>This unsubscribe link is not valid.</p>")));
        auto change = std::make_shared<Change>();
        change->mode = "off";
        host_->database().write(db::WriteJob{
            [jid = *jid, change](pqxx::dbtransaction& tx) {
              std::vector<std::string> unknown;
              apply(tx, jid, *change, unknown);
            },
            [this, life, jid = *jid, respond](db::WriteOutcome o) {
              if (!o.ok())
                return respond(html(503, page("Try again", "<p>Please try again later.</p>")));
              if (!life.expired()) forget(jid);
              log::info("email", "{} unsubscribed (one-click link)", jid);
              respond(
                  html(200, page("Unsubscribed", "<p>You will get no more email digests.</p>")));
            }});
      });
}

}  // namespace salon::email
