// SPDX-License-Identifier: GPL-3.0-or-later
// A plugin's HTTP route is guarded by the guard the wiring gives the service (the provisioning
// API's bearer guard), not by a token the service reads from the config itself: one check for
// everything under /api/v1/. A real http::Server on an ephemeral port, a blocking client.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <future>
#include <thread>

#include "../http/client.hpp"
#include "harness.hpp"
#include "http/http.hpp"

namespace salon::muc::test {
namespace {

namespace net = boost::asio;
using http::test::Client;

struct RouteBench {
  explicit RouteBench(config::Config c) : b(std::move(c)) {
    b.service = std::make_unique<Service>(
        ServiceDeps{b.io, b.sink, b.metrics, b.store, nullptr, &server, b.config});
    b.service->host().add_http_route(
        "GET", "/api/v1/plugin/{id}", [](const http::Request& req, http::Respond respond) {
          respond(http::json(200, "{\"id\":\"" + req.params.at("id") + "\"}"));
        });
  }
  void start() {
    ASSERT_EQ(server.listen("127.0.0.1", 0), std::nullopt);
    loop = std::thread([this] { b.io.run(); });
  }
  ~RouteBench() {
    if (loop.joinable()) {
      std::promise<void> stopped;
      net::post(b.io, [&] {
        server.stop();
        stopped.set_value();
      });
      stopped.get_future().wait();
      work.reset();
      loop.join();
    }
    b.service.reset();
  }
  int status(const std::string& token) {
    Client c(server.port());
    http::test::Fields f;
    if (!token.empty()) f.emplace_back("Authorization", "Bearer " + token);
    const auto r = c.request("GET", "/api/v1/plugin/x", {}, f);
    EXPECT_TRUE(r.complete) << r.error;
    return r.status;
  }

  Bench b;
  Metrics server_metrics;
  http::Server server{b.io, server_metrics};
  net::executor_work_guard<net::io_context::executor_type> work = net::make_work_guard(b.io);
  std::thread loop;
};

config::Config with_token(std::string token) {
  auto c = Bench::default_config();
  c.http.api_token = std::move(token);
  return c;
}

TEST(PluginRoutes, UseTheGuardTheyAreGivenNotTheConfigsToken) {
  RouteBench r(with_token("from-config"));
  r.b.service->set_http_guard(http::bearer_guard([] { return std::string("shared"); }));
  r.start();
  EXPECT_EQ(r.status("shared"), 200);
  EXPECT_EQ(r.status("from-config"), 401);
  EXPECT_EQ(r.status(""), 401);
}

TEST(PluginRoutes, WithoutAGuardAnswer503) {
  RouteBench r(with_token("from-config"));
  r.start();
  EXPECT_EQ(r.status("from-config"), 503);
}

}  // namespace
}  // namespace salon::muc::test
