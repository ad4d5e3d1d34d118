// SPDX-License-Identifier: GPL-3.0-or-later
// Connects the provisioning API to the store and to the live rooms. Kept apart from
// daemon.cpp so the daemon does not compile the API's headers.
#include "api/projects.hpp"
#include "app/api_routes.hpp"
#include "muc/service.hpp"

namespace salon::app {

ApiRoutes::ApiRoutes(muc::RoomStore& store, muc::Service& service, http::Server& http,
                     const config::Config& config)
    : api_(std::make_unique<api::ProjectsApi>(
          store, config.component.domain,
          api::ProjectHooks{
              [&service](const muc::RoomRecord& r) { service.project_changed(r); },
              [&service](const std::string& local) { service.project_deleted(local); }},
          api::settings_from(config))) {
  api_->add_routes(http);
  service.set_http_guard(api_->guard());
}

ApiRoutes::~ApiRoutes() = default;

void ApiRoutes::reload(const config::Config& config) {
  api_->reload(api::settings_from(config));
}

}  // namespace salon::app
