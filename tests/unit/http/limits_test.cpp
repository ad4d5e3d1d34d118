// SPDX-License-Identifier: GPL-3.0-or-later
// Limits: body size (413), head size (431), the read deadline, Expect: 100-continue, and
// max connections.
#include <nlohmann/json.hpp>

#include "fixture.hpp"

namespace salon::http::test {
namespace {

using namespace std::chrono_literals;

class Limited : public ServerTest {
protected:
  Limits limits() override {
    Limits l;
    l.io_timeout = 500ms;
    return l;
  }
  void SetUp() override {
    ServerTest::SetUp();
    server->route("POST", "/echo", [](const Request& req, Respond respond) {
      respond(Response{200, "application/octet-stream", {}, req.body});
    });
    start();
  }
};

TEST_F(Limited, BodyAtTheLimitIsAccepted) {
  Client c(port);
  const std::string body(1024 * 1024, 'x');
  auto r = c.request("POST", "/echo", body);
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), body.size());
}

TEST_F(Limited, DeclaredBodyTooLargeIs413BeforeTheBodyIsSent) {
  Client c(port);
  c.send_raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n");
  auto r = c.read();
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.header("content-type"), "application/problem+json");
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_EQ(nlohmann::json::parse(r.body).at("status"), 413);
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(Limited, ChunkedBodyTooLargeIs413AndTheResponseSurvives) {
  // No length announced: the limit trips while the body arrives. The server must not reset
  // the connection before the client can read the 413 (it drains the rest first).
  Client c(port);
  std::string req = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string chunk(64 * 1024, 'y');
  for (int i = 0; i < 20; ++i)
    req += "10000\r\n" + chunk + "\r\n";  // 1.25 MiB
  req += "0\r\n\r\n";
  c.send_raw(req);
  auto r = c.read();
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.status, 413);
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(Limited, HeadTooLargeIs431) {
  Client c(port);
  const std::string big(20 * 1024, 'h');
  c.send_raw("POST /echo HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n");
  auto r = c.read();
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(r.header("content-type"), "application/problem+json");
}

TEST_F(Limited, IdleConnectionIsClosedAfterTheDeadline) {
  Client c(port);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.wait_closed());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 450ms);
}

TEST_F(Limited, StalledRequestIsClosedAfterTheDeadline) {
  Client c(port);
  c.send_raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(Limited, KeptAliveConnectionTimesOutWhenIdle) {
  Client c(port);
  EXPECT_EQ(c.request("POST", "/echo", "a").status, 200);
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(Limited, ExpectContinueGetsAnInterimResponse) {
  Client c(port);
  c.send_raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  auto interim = c.read();
  ASSERT_TRUE(interim.complete) << interim.error;
  EXPECT_EQ(interim.status, 100);
  c.send_raw("hello");
  auto r = c.read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
}

TEST_F(Limited, ExpectContinueWithTooLargeBodyIs413WithoutInterim) {
  Client c(port);
  c.send_raw(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(c.read().status, 413);
}

class Crowded : public ServerTest {
protected:
  Limits limits() override {
    Limits l;
    l.max_connections = 3;
    return l;
  }
};

TEST_F(Crowded, ConnectionsBeyondTheMaximumAreClosed) {
  server->route("GET", "/", [](const Request&, Respond respond) { respond(Response{}); });
  start();
  Client a(port), b(port), d(port);
  EXPECT_EQ(a.request("GET", "/").status, 200);
  EXPECT_EQ(b.request("GET", "/").status, 200);
  EXPECT_EQ(d.request("GET", "/").status, 200);
  Client over(port);  // the kernel accepts it; the server closes it at once
  EXPECT_TRUE(over.wait_closed());
  EXPECT_NE(metrics_text().find("salon_http_rejected_connections_total 1\n"), std::string::npos);
  a.close();
  EXPECT_TRUE(eventually([&] {
    try {
      Client again(port);
      return again.request("GET", "/").status == 200;
    } catch (const std::exception&) {
      return false;  // closed by the server while still crowded
    }
  }));
}

}  // namespace
}  // namespace salon::http::test
