// SPDX-License-Identifier: GPL-3.0-or-later
// The HTTP request path without a socket: raw bytes, as one client connection sends them
// (pipelined requests, then the end of the stream), through what a Session does with them
// (server/http/session.cpp: Beast's request parser with salond's limits, the head as a
// Request, the router, the route's guard before the body, the unrouted answers) to the
// handlers: the provisioning API (server/api/: JSON codec and validators) on an in-memory
// store, and stand-ins for the other routes salond registers. Each input runs twice: with
// salond's default limits, and with small ones so that 413 and 431 are reached.
// Beyond "no crash":
//  - every request that reaches a handler is answered exactly once, with a valid status;
//  - every problem+json answer is a JSON object whose "status" is the answer's status;
//  - a 405 names in Allow the methods of the path, never the one refused;
//  - nothing under /api/v1/ answers other than 401 without the bearer token (the guard runs
//    before the body is read);
//  - what the API answers for a project (PUT, GET) is a body it accepts back, and that body
//    validates to the members the PUT asked for;
//  - a request the small limits let through is answered as under the default ones.
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "api/json_codec.hpp"
#include "api/projects.hpp"
#include "api/validate.hpp"
#include "core/log.hpp"
#include "fail.hpp"
#include "http/http.hpp"
#include "http/session.hpp"
#include "muc/store_memory.hpp"
#include "retention_body.hpp"

namespace {

using salon::fuzz::fail;
using namespace salon;
namespace bhttp = boost::beast::http;
using http::detail::error_code;

constexpr std::string_view kToken = "s3cret-token";
constexpr std::size_t kMaxRequests = 16;  // per input: enough for PUT, GET, DELETE, GET

api::Rules rules() {
  return api::make_rules({{"client", "member"},
                          {"designer", "member"},
                          {"staff", "admin"},
                          {"manager", "owner"}},
                         64)
      .rules;
}

// Reads as Beast's http::read_header / http::read do from a stream that holds `in` and then
// ends: put() what is there; when the parser needs more and there is no more, the end of the
// stream (put_eof, or end_of_stream before any byte).
void read(http::detail::RequestParser& p, std::string_view& in, error_code& ec, bool head_only) {
  const auto done = [&] { return head_only ? p.is_header_done() : p.is_done(); };
  while (!done()) {
    std::size_t used = 0;
    if (!in.empty()) {
      used = p.put(boost::asio::buffer(in.data(), in.size()), ec);
      in.remove_prefix(used);
      if (ec && ec != bhttp::error::need_more) return;
      ec = {};
    }
    if (used == 0 && !done()) {
      if (p.got_some())
        p.put_eof(ec);
      else
        ec = bhttp::error::end_of_stream;
      if (!ec && !done()) ec = bhttp::error::partial_message;
      return;
    }
  }
}

// `guarded`: the request found a route with a guard (the bearer check, for /api/v1/).
void check_answer(const http::Response& r, const http::Request& req, bool guarded) {
  if (r.status < 200 || r.status > 599) fail("an invalid status");
  if (r.content_type == "application/problem+json") {
    const auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("status") || j["status"] != r.status ||
        !j["title"].is_string())
      fail("a problem+json body without its status or title");
    if (j.contains("field") && (!j["field"].is_string() || j["field"].get<std::string>().empty()))
      fail("a problem+json 'field' that is not a non-empty string");
  }
  if (r.status == 405) {
    const auto allow = std::find_if(r.headers.begin(), r.headers.end(),
                                    [](const auto& h) { return h.first == "Allow"; });
    if (allow == r.headers.end() || allow->second.empty()) fail("405 without Allow");
    std::string_view rest = allow->second;
    while (!rest.empty()) {
      const auto comma = rest.find(", ");
      if (rest.substr(0, comma) == req.method) fail("405 allows the method it refused");
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 2);
    }
  }
  if (guarded && (r.status == 401) != !http::bearer_ok(req, kToken))
    fail("the bearer guard and the answer disagree");
}

std::vector<muc::AffiliationRecord> sorted_members(std::vector<muc::AffiliationRecord> m) {
  std::sort(m.begin(), m.end(), [](const auto& a, const auto& b) { return a.jid < b.jid; });
  return m;
}

bool same_member(const muc::AffiliationRecord& a, const muc::AffiliationRecord& b) {
  return a.jid == b.jid && a.nick == b.nick && a.email == b.email && a.role == b.role &&
         a.affiliation == b.affiliation;
}

// A project body the API answered must validate again; for a PUT, to what was asked for.
void check_project_answer(const http::Request& req, const http::Response& r) {
  const auto id = req.params.at("id");
  const auto input = api::parse_project_body(r.body);
  if (!std::holds_alternative<api::ProjectInput>(input))
    fail("the API's project body does not parse back");
  const auto spec = api::validate_project(id, std::get<api::ProjectInput>(input), rules());
  if (!std::holds_alternative<muc::ProjectSpec>(spec))
    fail("the API's project body does not validate back");
  if (req.method != "PUT") return;
  const auto asked_input = api::parse_project_body(req.body);
  const auto asked = api::validate_project(id, std::get<api::ProjectInput>(asked_input), rules());
  const auto& a = std::get<muc::ProjectSpec>(asked);
  const auto& b = std::get<muc::ProjectSpec>(spec);
  const auto am = sorted_members(a.members), bm = sorted_members(b.members);
  if (a.name != b.name || a.description != b.description || am.size() != bm.size() ||
      !std::equal(am.begin(), am.end(), bm.begin(), same_member))
    fail("the PUT answer differs from what was asked for");
}

// One connection's worth of salond: the routes it registers, on an in-memory store.
struct Service {
  boost::asio::io_context io;
  muc::MemoryRoomStore store{io};
  api::ProjectsApi projects{store, "rooms.example.com", {}, {std::string(kToken), rules()}};
  http::Router router;

  Service() {
    const auto ok = [](const http::Request&, http::Respond r) { r(http::json(200, "{}")); };
    // server/app/health.cpp (no guard)
    for (const char* p : {"/healthz", "/readyz", "/metrics"})
      router.add("GET", p, ok);
    // server/api/projects.cpp
    const auto guard = projects.guard();
    const std::string project = "/api/v1/projects/{id}";
    router.add(
        "PUT", project, [this](const auto& q, auto r) { projects.put(q, std::move(r)); }, guard);
    router.add(
        "GET", project, [this](const auto& q, auto r) { projects.get(q, std::move(r)); }, guard);
    router.add(
        "DELETE", project, [this](const auto& q, auto r) { projects.remove(q, std::move(r)); },
        guard);
    // The archive plugin's routes (retention.cpp, export.cpp), behind the same guard
    // (muc/host.cpp), up to where they would query the database.
    const std::string retention = project + "/retention";
    router.add("GET", retention, ok, guard);
    router.add("DELETE", retention, ok, guard);
    router.add(
        "PUT", retention,
        [](const http::Request& q, http::Respond r) {
          const auto body = archive::parse_days_body(q.body);
          if (!body)
            return r(http::problem(400, "Bad Request",
                                   "expected {\"days\": N} (1..36500) or {\"days\": null}",
                                   "days"));
          if (body->days && (*body->days < 1 || *body->days > 36500))
            fail("a days value out of range");
          r(http::json(200, "{}"));
        },
        guard);
    router.add(
        "GET", project + "/transcript",
        [](const http::Request& q, http::Respond r) {
          const std::string format = q.has_query_param("format") ? q.query_param("format") : "json";
          if (format != "json" && format != "html")
            return r(http::problem(400, "Bad Request", "format must be json or html", "format"));
          r(http::json(200, "{}"));
        },
        guard);
    router.add("DELETE", project + "/messages", ok, guard);
  }

  // Answers `req` through its route's handler; exactly one answer, once the store is done.
  http::Response call(const http::Router::Route& route, const http::Request& req) {
    auto got = std::make_shared<std::vector<http::Response>>();
    route.handler(req, [got](http::Response r) { got->push_back(std::move(r)); });
    io.restart();
    io.run();
    if (got->size() != 1) fail("not exactly one answer");
    return std::move(got->front());
  }
};

// The statuses answered on one connection, in order.
std::vector<int> serve(std::string_view in, const http::Limits& limits) {
  Service s;
  std::vector<int> statuses;
  for (std::size_t n = 0; n < kMaxRequests; ++n) {
    http::detail::RequestParser parser;
    http::detail::set_limits(parser, limits);
    error_code ec;
    read(parser, in, ec, true);
    if (ec) {
      if (auto r = http::detail::read_error_answer(ec, limits)) statuses.push_back(r->status);
      break;
    }
    http::Request req = http::detail::request_head(parser.get());
    const bool keep_alive = parser.get().keep_alive();
    auto match = s.router.match(req.method, req.path);
    using Kind = http::Router::Match::Kind;
    const bool guarded = match.kind == Kind::found && match.route->guard;
    if (guarded) {
      req.params = match.params;
      if (auto refused = match.route->guard(req)) {
        check_answer(*refused, req, guarded);
        statuses.push_back(refused->status);
        break;  // the unread body leaves the connection unusable
      }
    }
    read(parser, in, ec, false);
    if (ec) {
      if (auto r = http::detail::read_error_answer(ec, limits)) statuses.push_back(r->status);
      break;
    }
    req.body = std::move(parser.release().body());
    if (auto unrouted = http::detail::unrouted_answer(match, req)) {
      check_answer(*unrouted, req, guarded);
      statuses.push_back(unrouted->status);
    } else {
      req.params = std::move(match.params);
      const auto r = s.call(*match.route, req);
      check_answer(r, req, guarded);
      if (match.route->pattern == "/api/v1/projects/{id}" && (r.status == 200 || r.status == 201) &&
          req.method != "DELETE")
        check_project_answer(req, r);
      statuses.push_back(r.status);
    }
    if (!keep_alive) break;
  }
  return statuses;
}

}  // namespace

// The API logs every project created or deleted at info: that is most of the run's time and
// output. Errors (a handler that threw or dropped its answer) stay visible.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  log::set_level(log::Level::error);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto full = serve(in, http::Limits{});
  http::Limits small;
  small.max_body_bytes = 512;
  small.max_header_bytes = 256;
  const auto tight = serve(in, small);
  for (std::size_t i = 0; i < std::min(full.size(), tight.size()); ++i) {
    if (tight[i] == 413 || tight[i] == 431) break;
    if (tight[i] != full[i]) fail("the small limits changed an answer they let through");
  }
  return 0;
}
