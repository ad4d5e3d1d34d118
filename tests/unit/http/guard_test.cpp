// SPDX-License-Identifier: GPL-3.0-or-later
// Route guards run on the request head, before the body is read: a client without the token
// gets its 401 at once, and salond never reads or holds its upload.
#include <atomic>

#include "fixture.hpp"

namespace salon::http::test {
namespace {

using namespace std::chrono_literals;

class Guarded : public ServerTest {
protected:
  void SetUp() override {
    ServerTest::SetUp();
    server->route(
        "POST", "/api/v1/things/{id}",
        [this](const Request& req, Respond respond) {
          ++handled;
          respond(Response{200, "text/plain", {}, req.params.at("id") + ":" + req.body});
        },
        bearer_guard([this] { return *token; }));
    start();
  }
  std::shared_ptr<std::string> token = std::make_shared<std::string>("s3cret");
  std::atomic<int> handled{0};
};

TEST_F(Guarded, NoTokenIs401BeforeTheBodyIsSent) {
  // Without the guard the server would wait for the 500,000 bytes announced (the 2 s client
  // deadline is far below the server's 30 s read deadline).
  Client c(port, 2s);
  c.send_raw("POST /api/v1/things/a HTTP/1.1\r\nHost: x\r\nContent-Length: 500000\r\n\r\n");
  auto r = c.read();
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("www-authenticate"), "Bearer realm=\"salon\"");
  EXPECT_EQ(r.header("connection"), "close");  // the unread body ends the connection
  EXPECT_TRUE(c.wait_closed());
  EXPECT_EQ(handled.load(), 0);
}

TEST_F(Guarded, WrongTokenWithExpectContinueGetsNoInterim) {
  Client c(port, 2s);
  c.send_raw(
      "POST /api/v1/things/a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\n"
      "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  auto r = c.read();
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.status, 401);  // not 100: the client never sends the body
  EXPECT_EQ(handled.load(), 0);
}

TEST_F(Guarded, RightTokenReachesTheHandlerWithBodyAndParams) {
  Client c(port);
  auto r = c.request("POST", "/api/v1/things/a%2Fb", "hello", {{"Authorization", "Bearer s3cret"}});
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "a/b:hello");
  // The connection stays usable.
  r = c.request("POST", "/api/v1/things/c", "again", {{"Authorization", "Bearer s3cret"}});
  EXPECT_EQ(r.body, "c:again");
  EXPECT_EQ(handled.load(), 2);
}

TEST_F(Guarded, NoConfiguredTokenIs503AndTheTokenIsReadPerRequest) {
  on_loop([&] { *token = ""; });
  Client c(port);
  auto r = c.request("POST", "/api/v1/things/a", "x", {{"Authorization", "Bearer "}});
  EXPECT_EQ(r.status, 503);
  on_loop([&] { *token = "new"; });
  Client d(port);
  r = d.request("POST", "/api/v1/things/a", "x", {{"Authorization", "Bearer new"}});
  EXPECT_EQ(r.status, 200);
}

TEST_F(Guarded, UnguardedAnswersStillComeFromTheRouter) {
  Client c(port);
  EXPECT_EQ(c.request("GET", "/api/v1/things/a").status, 405);  // method check is the router's
  Client d(port);
  EXPECT_EQ(d.request("POST", "/api/v1/nothing", "x").status, 404);
}

}  // namespace
}  // namespace salon::http::test
