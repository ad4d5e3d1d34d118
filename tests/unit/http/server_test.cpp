// SPDX-License-Identifier: GPL-3.0-or-later
// The server over real sockets: routing, errors, the Respond guard, limits, keep-alive.
#include <nlohmann/json.hpp>

#include <atomic>

#include "fixture.hpp"

namespace salon::http::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

void expect_problem(const Reply& r, int status) {
  EXPECT_EQ(r.status, status);
  EXPECT_EQ(r.header("content-type"), "application/problem+json");
  EXPECT_EQ(r.header("cache-control"), "no-store");
  EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
  const auto j = json::parse(r.body);
  EXPECT_EQ(j.at("type"), "about:blank");
  EXPECT_EQ(j.at("status"), status);
  EXPECT_TRUE(j.at("title").is_string());
  EXPECT_TRUE(j.at("detail").is_string());
}

class Routing : public ServerTest {
protected:
  void SetUp() override {
    ServerTest::SetUp();
    server->route("GET", "/api/v1/projects/{id}", [](const Request& req, Respond respond) {
      respond(http::json(200, json{{"id", req.params.at("id")},
                                   {"q", req.query_param("q")},
                                   {"remote", req.remote},
                                   {"accept", req.header("x-multi")}}
                                  .dump()));
    });
    server->route("PUT", "/api/v1/projects/{id}", [](const Request& req, Respond respond) {
      respond(http::json(200, json{{"len", req.body.size()}}.dump()));
    });
    server->route("GET", "/api/v1/projects/new", [](const Request&, Respond respond) {
      respond(Response{200, "text/plain", {{"X-Extra", "1"}}, "literal"});
    });
    start();
  }
};

TEST_F(Routing, ParamsQueryAndHeaders) {
  Client c(port);
  auto r = c.request("GET", "/api/v1/projects/p%2D1?q=a+b%21", {},
                     {{"X-Multi", "one"}, {"x-multi", "two"}});
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.header("cache-control"), "no-store");
  EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.header("content-length"), std::to_string(r.body.size()));
  const auto j = json::parse(r.body);
  EXPECT_EQ(j.at("id"), "p-1");
  EXPECT_EQ(j.at("q"), "a b!");
  EXPECT_EQ(j.at("accept"), "one, two");
  EXPECT_EQ(j.at("remote").get<std::string>().rfind("127.0.0.1:", 0), 0u);
}

TEST_F(Routing, LiteralSegmentWinsAndExtraHeadersAreSent) {
  Client c(port);
  auto r = c.request("GET", "/api/v1/projects/new");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "literal");
  EXPECT_EQ(r.header("x-extra"), "1");
}

TEST_F(Routing, UnknownPathIs404Problem) {
  Client c(port);
  auto r = c.request("GET", "/nope");
  expect_problem(r, 404);
  // The connection stays usable after an error answer.
  EXPECT_EQ(c.request("GET", "/api/v1/projects/x").status, 200);
}

TEST_F(Routing, WrongMethodIs405WithAllow) {
  Client c(port);
  auto r = c.request("DELETE", "/api/v1/projects/x");
  expect_problem(r, 405);
  EXPECT_EQ(r.header("allow"), "GET, HEAD, PUT");
}

TEST_F(Routing, MalformedPathIs400) {
  Client c(port);
  expect_problem(c.request("GET", "/api/v1/projects/%zz"), 400);
}

TEST_F(Routing, HeadAnswersLikeGetWithoutBody) {
  Client c(port);
  const auto get = c.request("GET", "/api/v1/projects/abc");
  const auto head = c.request("HEAD", "/api/v1/projects/abc");
  ASSERT_TRUE(head.complete) << head.error;
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(head.header("content-length"), std::to_string(get.body.size()));
  EXPECT_EQ(c.request("GET", "/api/v1/projects/abc").body, get.body);  // framing intact
}

TEST_F(Routing, KeepAliveServesTwoRequestsOnOneConnection) {
  Client c(port);
  const auto a = c.request("GET", "/api/v1/projects/a");
  const auto b = c.request("PUT", "/api/v1/projects/b", "hello");
  ASSERT_EQ(a.status, 200);
  ASSERT_EQ(b.status, 200);
  EXPECT_EQ(json::parse(b.body).at("len"), 5);
  EXPECT_FALSE(a.has("connection"));  // HTTP/1.1 default: keep-alive
  // Same client port both times, so the same TCP connection.
  const auto c2 = c.request("GET", "/api/v1/projects/c");
  EXPECT_EQ(json::parse(a.body).at("remote"), json::parse(c2.body).at("remote"));
}

TEST_F(Routing, PipelinedRequestsAnsweredInOrder) {
  Client c(port);
  c.send_raw(
      "GET /api/v1/projects/one HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /api/v1/projects/two HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(json::parse(c.read().body).at("id"), "one");
  EXPECT_EQ(json::parse(c.read().body).at("id"), "two");
}

TEST_F(Routing, Http10WithoutKeepAliveIsClosedAfterTheAnswer) {
  Client c(port);
  auto r = c.request("GET", "/api/v1/projects/x", {}, {}, 10);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.version, 10u);
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(Routing, ConnectionCloseIsHonoured) {
  Client c(port);
  auto r = c.request("GET", "/api/v1/projects/x", {}, {{"Connection", "close"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(Routing, MalformedRequestIs400AndClosed) {
  Client c(port);
  c.send_raw("GARBAGE\r\n\r\n");
  expect_problem(c.read(), 400);
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(Routing, RequestsAreCountedByRoutePatternAndCode) {
  Client c(port);
  c.request("GET", "/api/v1/projects/a");
  c.request("GET", "/api/v1/projects/b");
  c.request("GET", "/missing");
  // Counted when the write completes, which may be just after the client has read it.
  EXPECT_TRUE(eventually([&] {
    const auto text = metrics_text();
    return text.find(
               "salon_http_requests_total{route=\"/api/v1/projects/{id}\",code=\"200\"} 2\n") !=
               std::string::npos &&
           text.find("salon_http_requests_total{route=\"unmatched\",code=\"404\"} 1\n") !=
               std::string::npos &&
           text.find(
               "salon_http_request_duration_seconds_count{route=\"/api/v1/projects/{id}\"} 2\n") !=
               std::string::npos;
  })) << metrics_text();
  EXPECT_NE(metrics_text().find("# TYPE salon_http_request_duration_seconds histogram"),
            std::string::npos);
}

TEST_F(Routing, OpenConnectionsAreAGauge) {
  const auto has = [&](const std::string& line) {
    return eventually([&] { return metrics_text().find(line) != std::string::npos; });
  };
  {
    Client a(port), b(port);
    a.request("GET", "/api/v1/projects/a");
    b.request("GET", "/api/v1/projects/b");
    EXPECT_TRUE(has("\nsalon_http_open_connections 2\n")) << metrics_text();
  }
  EXPECT_TRUE(has("\nsalon_http_open_connections 0\n")) << metrics_text();
}

class Handlers : public ServerTest {};

TEST_F(Handlers, AsyncHandlerAnswersLaterFromATimer) {
  server->route("GET", "/slow", [this](const Request&, Respond respond) {
    answer_later(std::move(respond), Response{200, "text/plain", {}, "late"}, 50ms);
  });
  start();
  Client c(port);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = c.request("GET", "/slow");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "late");
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 50ms);
}

TEST_F(Handlers, PendingAnswerDoesNotBlockOtherConnections) {
  Respond held;
  server->route("GET", "/wait",
                [&](const Request&, Respond respond) { held = std::move(respond); });
  server->route("GET", "/release", [&](const Request&, Respond respond) {
    held(Response{200, "text/plain", {}, "released"});
    respond(Response{200, "text/plain", {}, "ok"});
  });
  start();
  Client waiting(port);
  waiting.write_request("GET", "/wait");
  EXPECT_TRUE(eventually([&] {
    bool got = false;
    on_loop([&] { got = static_cast<bool>(held); });
    return got;
  }));
  Client other(port);
  EXPECT_EQ(other.request("GET", "/release").body, "ok");
  EXPECT_EQ(waiting.read().body, "released");
}

TEST_F(Handlers, DroppedRespondIs500) {
  server->route("GET", "/forgets", [](const Request&, Respond) {});
  server->route("GET", "/drops-later", [this](const Request&, Respond respond) {
    auto timer = std::make_shared<net::steady_timer>(io, 20ms);
    timer->async_wait([timer, respond](auto) { /* never answers */ });
  });
  start();
  Client c(port);
  expect_problem(c.request("GET", "/forgets"), 500);
  expect_problem(c.request("GET", "/drops-later"), 500);
  EXPECT_EQ(c.request("GET", "/forgets").status, 500);  // still the same connection
  EXPECT_TRUE(eventually([&] {
    return metrics_text().find("salon_http_requests_total{route=\"/forgets\",code=\"500\"} 2\n") !=
           std::string::npos;
  })) << metrics_text();
}

TEST_F(Handlers, ThrowingHandlerIs500) {
  server->route("GET", "/throws",
                [](const Request&, Respond) { throw std::runtime_error("boom"); });
  start();
  Client c(port);
  expect_problem(c.request("GET", "/throws"), 500);
}

TEST_F(Handlers, SecondAnswerIsIgnored) {
  server->route("GET", "/twice", [](const Request&, Respond respond) {
    respond(Response{200, "text/plain", {}, "first"});
    respond(Response{201, "text/plain", {}, "second"});
  });
  start();
  Client c(port);
  auto r = c.request("GET", "/twice");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "first");
  auto again = c.request("GET", "/twice");  // no stray second response on the wire
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, "first");
}

TEST_F(Handlers, RespondFromAWorkerThread) {
  server->route("GET", "/worker", [this](const Request& req, Respond respond) {
    workers.emplace_back([respond, path = req.path] {
      respond(Response{200, "text/plain", {}, "from worker for " + path});
    });
  });
  start();
  Client c(port);
  EXPECT_EQ(c.request("GET", "/worker").body, "from worker for /worker");
}

TEST_F(Handlers, InvalidStatusBecomes500) {
  server->route("GET", "/bad", [](const Request&, Respond respond) { respond(Response{42}); });
  start();
  Client c(port);
  expect_problem(c.request("GET", "/bad"), 500);
}

TEST_F(Handlers, NoContentHasNoBodyAndNoLength) {
  server->route("DELETE", "/x", [](const Request&, Respond respond) {
    respond(Response{204, "", {}, "ignored"});
  });
  start();
  Client c(port);
  auto r = c.request("DELETE", "/x");
  EXPECT_EQ(r.status, 204);
  EXPECT_FALSE(r.has("content-length"));
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.header("cache-control"), "no-store");
  EXPECT_EQ(c.request("DELETE", "/x").status, 204);
}

TEST_F(Handlers, FramingAndUnsafeHeadersFromHandlersAreIgnored) {
  server->route("GET", "/h", [](const Request&, Respond respond) {
    respond(Response{200,
                     "text/plain",
                     {{"Content-Length", "999"},
                      {"X-Evil", "a\r\nInjected: 1"},
                      {"Cache-Control", "max-age=60"}},
                     "abc"});
  });
  start();
  Client c(port);
  auto r = c.request("GET", "/h");
  EXPECT_EQ(r.body, "abc");
  EXPECT_EQ(r.header("content-length"), "3");
  EXPECT_FALSE(r.has("x-evil"));
  EXPECT_FALSE(r.has("injected"));
  EXPECT_EQ(r.header("cache-control"), "max-age=60");
}

TEST_F(Handlers, StopClosesConnectionsAndDropsLateAnswers) {
  Respond held;
  server->route("GET", "/wait",
                [&](const Request&, Respond respond) { held = std::move(respond); });
  start();
  Client c(port);
  c.write_request("GET", "/wait");
  EXPECT_TRUE(eventually([&] {
    bool got = false;
    on_loop([&] { got = static_cast<bool>(held); });
    return got;
  }));
  on_loop([&] { server->stop(); });
  EXPECT_TRUE(c.wait_closed());
  on_loop([&] {
    held(Response{200});  // after stop: dropped quietly
    held = nullptr;
  });
  EXPECT_THROW(Client late(port), std::exception);  // no longer accepting
}

TEST_F(Handlers, BearerAuthOverHttp) {
  server->route("GET", "/api/v1/secret", [](const Request& req, Respond respond) {
    if (!bearer_ok(req, "s3cret")) return respond(unauthorized());
    respond(Response{200, "text/plain", {}, "in"});
  });
  start();
  Client c(port);
  EXPECT_EQ(c.request("GET", "/api/v1/secret", {}, {{"Authorization", "Bearer s3cret"}}).body,
            "in");
  for (const char* bad : {"Bearer s3creT", "Bearer s3cret0", "Bearer s3cre", "Basic s3cret"}) {
    auto r = c.request("GET", "/api/v1/secret", {}, {{"Authorization", bad}});
    expect_problem(r, 401);
    EXPECT_EQ(r.header("www-authenticate"), "Bearer realm=\"salon\"") << bad;
  }
  expect_problem(c.request("GET", "/api/v1/secret"), 401);
}

TEST_F(Handlers, ListenErrorsAreReported) {
  start();
  Server other(io, metrics);
  const auto in_use = other.listen("127.0.0.1", port);
  ASSERT_TRUE(in_use.has_value());
  EXPECT_NE(in_use->find("bind 127.0.0.1:"), std::string::npos) << *in_use;
  const auto bad = other.listen("not-an-address", 0);
  ASSERT_TRUE(bad.has_value());
  EXPECT_NE(bad->find("not-an-address"), std::string::npos) << *bad;
}

TEST_F(Handlers, ManyConcurrentConnections) {
  // Every handler holds its answer until all of them have arrived: this passes only if the
  // server reads all connections concurrently.
  constexpr std::size_t n = 200;
  std::vector<Respond> held;
  server->route("GET", "/gather", [&](const Request&, Respond respond) {
    held.push_back(std::move(respond));
    if (held.size() < n) return;
    // Take them out first: the last answer lets the test body (and `held`) end.
    auto all = std::move(held);
    for (auto& r : all)
      r(Response{200, "text/plain", {}, "ok"});
  });
  start();
  const auto replies = parallel_get(port, "/gather", n);
  ASSERT_EQ(replies.size(), n);
  for (const auto& r : replies) {
    ASSERT_TRUE(r.complete) << r.error;
    EXPECT_EQ(r.status, 200);
  }
}

}  // namespace
}  // namespace salon::http::test
