// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <memory>

#include "config/config.hpp"

namespace salon {
namespace api {
class ProjectsApi;
}
namespace muc {
class RoomStore;
class Service;
}  // namespace muc
namespace http {
class Server;
}
}  // namespace salon

namespace salon::app {

// The /api/v1 routes: provisioning writes go to the store, then are applied to live rooms.
class ApiRoutes {
public:
  ApiRoutes(muc::RoomStore& store, muc::Service& service, http::Server& http,
            const config::Config& config);
  ~ApiRoutes();
  void reload(const config::Config& config);

private:
  std::unique_ptr<api::ProjectsApi> api_;
};

}  // namespace salon::app
