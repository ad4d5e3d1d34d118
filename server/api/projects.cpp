// SPDX-License-Identifier: GPL-3.0-or-later
#include "api/projects.hpp"

#include <fmt/format.h>

#include <exception>
#include <utility>

#include "api/json_codec.hpp"
#include "config/config.hpp"
#include "core/log.hpp"
#include "http/http.hpp"

namespace salon::api {

struct ProjectsApi::State {
  muc::RoomStore* store;
  std::string domain;
  ProjectHooks hooks;
  ApiSettings settings;
};

namespace {

constexpr std::string_view kArea = "api";
constexpr std::string_view kRoute = "/api/v1/projects/{id}";

http::Response bad_request(const FieldError& e) {
  return http::problem(400, "Bad Request", e.detail, e.field);
}

http::Response not_found(std::string_view id) {
  return http::problem(404, "Not Found", fmt::format("no project '{}'", id));
}

// The store failed (PostgreSQL down or refusing): the change did not happen, retrying may work.
http::Response store_failed(std::string_view what, std::string_view id, const muc::StoreError& e) {
  log::warn(kArea, "{} project '{}' failed: {}", what, id, e.message);
  auto r = http::problem(503, "Service Unavailable",
                         "the database did not answer or refused the change; nothing was changed");
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

// Auth first, so an unauthenticated caller learns nothing about ids or bodies. Through the
// server the route's guard has already checked it before the body was read; the handlers
// check again for callers that bypass the server (tests, future in-process callers).
std::optional<http::Response> refuse(const ApiSettings& s, const http::Request& req) {
  return http::check_bearer(req, s.api_token);
}

std::string id_param(const http::Request& req) {
  const auto it = req.params.find("id");
  return it == req.params.end() ? std::string() : it->second;
}

// A hook that throws must not turn a committed change into an error answer, nor escape onto
// the loop: the change is durable and the room will pick it up when it is next loaded.
template <typename F>
void run_hook(std::string_view what, std::string_view id, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    log::error(kArea, "live update ({}) of project '{}' failed: {}", what, id, e.what());
  }
}

using StatePtr = std::shared_ptr<ProjectsApi::State>;
void put_project(const StatePtr& s, const http::Request& req, http::Respond respond);
void get_project(const StatePtr& s, const http::Request& req, http::Respond respond);
void remove_project(const StatePtr& s, const http::Request& req, http::Respond respond);

}  // namespace

ApiSettings settings_from(const config::Config& config) {
  auto built = make_rules(config.muc.role_affiliations, config.muc.max_nick_chars);
  for (const auto& role : built.rejected)
    log::warn(kArea, "muc.role_affiliations.{}: not member, admin or owner; role ignored", role);
  return ApiSettings{config.http.api_token, std::move(built.rules)};
}

ProjectsApi::ProjectsApi(muc::RoomStore& store, std::string domain, ProjectHooks hooks,
                         ApiSettings settings)
    : state_(std::make_shared<State>(
          State{&store, std::move(domain), std::move(hooks), std::move(settings)})) {}

ProjectsApi::~ProjectsApi() = default;

void ProjectsApi::add_routes(http::Server& server) {
  auto s = state_;
  // The handlers hold the state, not `this`, so the routes stay valid whatever the order of
  // destruction at shutdown.
  const auto guard = this->guard();
  server.route(
      "PUT", kRoute,
      [s](const http::Request& req, http::Respond r) { put_project(s, req, std::move(r)); }, guard);
  server.route(
      "GET", kRoute,
      [s](const http::Request& req, http::Respond r) { get_project(s, req, std::move(r)); }, guard);
  server.route(
      "DELETE", kRoute,
      [s](const http::Request& req, http::Respond r) { remove_project(s, req, std::move(r)); },
      guard);
}

http::Guard ProjectsApi::guard() const {
  return http::bearer_guard([s = state_] { return s->settings.api_token; });
}

void ProjectsApi::reload(ApiSettings settings) {
  state_->settings = std::move(settings);
}

void ProjectsApi::put(const http::Request& req, http::Respond respond) {
  put_project(state_, req, std::move(respond));
}
void ProjectsApi::get(const http::Request& req, http::Respond respond) {
  get_project(state_, req, std::move(respond));
}
void ProjectsApi::remove(const http::Request& req, http::Respond respond) {
  remove_project(state_, req, std::move(respond));
}

namespace {

void put_project(const StatePtr& s, const http::Request& req, http::Respond respond) {
  if (auto r = refuse(s->settings, req)) return respond(*std::move(r));
  const auto id = id_param(req);
  if (auto e = validate_project_id(id)) return respond(bad_request(*e));
  auto input = parse_project_body(req.body);
  if (auto* e = std::get_if<FieldError>(&input)) return respond(bad_request(*e));
  auto spec = validate_project(id, std::get<ProjectInput>(input), s->settings.rules);
  if (auto* e = std::get_if<FieldError>(&spec)) return respond(bad_request(*e));

  s->store->upsert_project(
      std::get<muc::ProjectSpec>(spec),
      [s, id, respond](std::optional<muc::RoomRecord> room, bool created, muc::StoreError err) {
        if (err || !room) return respond(store_failed("storing", id, err));
        log::info(kArea, "project '{}' {} ({} affiliations)", id, created ? "created" : "updated",
                  room->affiliations.size());
        if (s->hooks.changed) run_hook("changed", id, [&] { s->hooks.changed(*room); });
        auto r = http::json(created ? 201 : 200, project_json(*room, s->domain));
        if (created) r.headers.emplace_back("Location", fmt::format("/api/v1/projects/{}", id));
        respond(std::move(r));
      });
}

void get_project(const StatePtr& s, const http::Request& req, http::Respond respond) {
  if (auto r = refuse(s->settings, req)) return respond(*std::move(r));
  const auto id = id_param(req);
  if (auto e = validate_project_id(id)) return respond(bad_request(*e));
  s->store->load_room(id,
                      [s, id, respond](std::optional<muc::RoomRecord> room, muc::StoreError err) {
                        if (err) return respond(store_failed("reading", id, err));
                        if (!room) return respond(not_found(id));
                        respond(http::json(200, project_json(*room, s->domain)));
                      });
}

void remove_project(const StatePtr& s, const http::Request& req, http::Respond respond) {
  if (auto r = refuse(s->settings, req)) return respond(*std::move(r));
  const auto id = id_param(req);
  if (auto e = validate_project_id(id)) return respond(bad_request(*e));
  s->store->delete_room(id, [s, id, respond](bool existed, muc::StoreError err) {
    if (err) return respond(store_failed("deleting", id, err));
    if (!existed) return respond(not_found(id));
    log::info(kArea, "project '{}' deleted", id);
    if (s->hooks.deleted) run_hook("deleted", id, [&] { s->hooks.deleted(id); });
    http::Response r;
    r.status = 204;
    r.content_type.clear();
    respond(std::move(r));
  });
}

}  // namespace

}  // namespace salon::api
