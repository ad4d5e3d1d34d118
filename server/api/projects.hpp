// SPDX-License-Identifier: GPL-3.0-or-later
// The provisioning API (docs/openapi.yaml): the marketplace backend creates, reads and deletes
// project rooms.
//   PUT    /api/v1/projects/{id}   create (201) or update (200) room + provisioned members
//   GET    /api/v1/projects/{id}   200 project JSON, or 404
//   DELETE /api/v1/projects/{id}   204, or 404; the room is destroyed
// Every route needs "Authorization: Bearer <http.api_token>" (401 otherwise); without a
// configured token the API answers 503. The store commits first; only then are the live hooks
// called (the MUC service applies the change to a loaded room: kicks with 321, destroy
// presences), so what occupants see never runs ahead of what is durable.
// Handlers run on the event loop and never block: the store answers on the loop.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "api/validate.hpp"
#include "muc/store.hpp"

namespace salon {
namespace config {
struct Config;
}
namespace http {
struct Request;
struct Response;
class Server;
using Respond = std::function<void(Response)>;
using Guard = std::function<std::optional<Response>(const Request&)>;
}  // namespace http
}  // namespace salon

namespace salon::api {

// The live side (muc::Service::project_changed / project_deleted), as callbacks so this
// library does not depend on the service. Either may be empty (nothing is loaded to update).
struct ProjectHooks {
  std::function<void(const muc::RoomRecord&)> changed;
  std::function<void(const std::string& local)> deleted;
};

// What SIGHUP may change.
struct ApiSettings {
  std::string api_token;  // empty: the API is disabled and answers 503
  Rules rules;
};
// From [http] api_token and [muc] role_affiliations / max_nick_chars. Roles mapped to an
// affiliation other than member/admin/owner are left out, with a warning in the log.
ApiSettings settings_from(const config::Config& config);

class ProjectsApi {
public:
  // `store` must outlive every request in flight. `domain` is the component domain.
  ProjectsApi(muc::RoomStore& store, std::string domain, ProjectHooks hooks, ApiSettings settings);
  ~ProjectsApi();
  ProjectsApi(const ProjectsApi&) = delete;
  ProjectsApi& operator=(const ProjectsApi&) = delete;

  // Registers the three routes. The handlers share this object's state; answers to requests
  // still in flight when it is destroyed are still delivered.
  void add_routes(http::Server& server);
  // The bearer guard these routes run before the body is read (the current token, read per
  // request). The plugins' routes share it (muc::Service::set_http_guard): one token check
  // for everything under /api/v1/.
  [[nodiscard]] http::Guard guard() const;
  // Loop thread: new token and role mapping, effective for the next request.
  void reload(ApiSettings settings);

  // The handlers (public so tests can call them without a socket). Request params: {"id"}.
  void put(const http::Request& req, http::Respond respond);
  void get(const http::Request& req, http::Respond respond);
  void remove(const http::Request& req, http::Respond respond);

  struct State;

private:
  std::shared_ptr<State> state_;
};

}  // namespace salon::api
