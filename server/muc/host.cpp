// SPDX-License-Identifier: GPL-3.0-or-later
// plugin::Host: what plugins may use. Registration happens in Plugin::start().
#include <stdexcept>

#include "core/log.hpp"
#include "http/http.hpp"
#include "muc/impl.hpp"

namespace salon::muc {

db::Database& Service::Impl::database() {
  if (!database_) throw std::logic_error("no database in this service (unit test?)");
  return *database_;
}

journal::Journal& Service::Impl::journal() {
  if (!journal_) throw std::logic_error("no journal in this service (unit test?)");
  return *journal_;
}

void Service::Impl::on_room_iq(std::string_view type, std::string_view xmlns,
                               plugin::RoomIqHandler h) {
  if (core_iq(type, xmlns))
    return log::warn("muc", "room IQ handler {} {} ignored: the core answers it", type, xmlns);
  if (iq_router.has(IqTarget::room, type, xmlns))
    log::warn("muc", "room IQ handler {} {} replaced", type, xmlns);
  iq_router.on(IqTarget::room, type, xmlns,
               [this, h = std::move(h)](const MucIqRequest& r, IqResponder reply) {
                 plugin_room_iq(h, r, std::move(reply));
               });
}

void Service::Impl::on_service_iq(std::string_view type, std::string_view xmlns,
                                  plugin::ServiceIqHandler h) {
  if (core_iq(type, xmlns))
    return log::warn("muc", "service IQ handler {} {} ignored: the core answers it", type, xmlns);
  if (iq_router.has(IqTarget::service, type, xmlns))
    log::warn("muc", "service IQ handler {} {} replaced", type, xmlns);
  iq_router.on(
      IqTarget::service, type, xmlns,
      [h = std::move(h)](const MucIqRequest& r, IqResponder reply) { h(r.iq, std::move(reply)); });
}

void Service::Impl::add_room_feature(std::string var) {
  if (std::find(room_features.begin(), room_features.end(), var) == room_features.end())
    room_features.push_back(std::move(var));
}

void Service::Impl::add_service_feature(std::string var) {
  if (std::find(service_features.begin(), service_features.end(), var) == service_features.end())
    service_features.push_back(std::move(var));
}

void Service::Impl::set_history_provider(plugin::HistoryProvider provider) {
  history = std::move(provider);
}

bool Service::Impl::broadcast_from_room(const Jid& room_jid, Element message) {
  if (room_jid.domain() != domain) return false;
  const auto it = rooms.find(room_jid.local());
  if (it == rooms.end() || !it->second || it->second->destroyed) return false;
  Room& room = *it->second;
  message.set_attr("from", room.jid.bare_str());
  for (auto& [nick, occ] : room.occupants)
    for (const auto& s : occ.sessions)
      deliver(room, s.real, message);
  return true;
}

void Service::Impl::add_http_route(std::string_view method, std::string_view pattern,
                                   http::Handler handler) {
  if (!pattern.starts_with("/api/v1/"))
    throw std::invalid_argument("plugin HTTP routes live under /api/v1/: " + std::string(pattern));
  http_routes.push_back(HttpRoute{std::string(method), std::string(pattern), handler});
  if (!http_) return;  // unit tests: no HTTP server
  // The provisioning API's guard (set_http_guard), looked up per request so the order of
  // wiring does not matter; without one, or once the service is gone, 503.
  std::weak_ptr<int> life = alive;
  http_->route(
      method, pattern,
      [life, handler = std::move(handler)](const http::Request& req, http::Respond respond) {
        if (life.expired())
          return respond(http::problem(503, "Service Unavailable", "shutting down"));
        handler(req, std::move(respond));
      },
      [this, life](const http::Request& req) -> std::optional<http::Response> {
        if (life.expired() || !http_guard)
          return http::problem(503, "Service Unavailable", "plugin routes are not available");
        return http_guard(req);
      });
}

void Service::Impl::add_readiness_check(std::string name, std::function<CheckResult()> probe) {
  if (readiness_) readiness_->add(std::move(name), false, std::move(probe));
}

void Service::Impl::add_public_http_route(std::string_view method, std::string_view pattern,
                                          http::Handler handler) {
  for (std::string_view core : {"/api/", "/healthz", "/readyz", "/metrics"})
    if (pattern.starts_with(core))
      throw std::invalid_argument("not a public plugin route: " + std::string(pattern));
  if (!pattern.starts_with("/"))
    throw std::invalid_argument("a route starts with '/': " + std::string(pattern));
  http_routes.push_back(HttpRoute{std::string(method), std::string(pattern), handler});
  if (!http_) return;
  std::weak_ptr<int> life = alive;
  http_->route(
      method, pattern,
      [life, handler = std::move(handler)](const http::Request& req, http::Respond respond) {
        if (life.expired())
          return respond(http::problem(503, "Service Unavailable", "shutting down"));
        handler(req, std::move(respond));
      });
}

}  // namespace salon::muc
