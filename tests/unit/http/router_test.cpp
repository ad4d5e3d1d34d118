// SPDX-License-Identifier: GPL-3.0-or-later
// The Beast-free parts: route matching, url decoding, query parameters, problem+json, bearer.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <stdexcept>

#include "http/http.hpp"
#include "http/router.hpp"

namespace salon::http {
namespace {

using Kind = Router::Match::Kind;

Handler noop() {
  return [](const Request&, Respond) {};
}

TEST(Router, ExactAndParamSegments) {
  Router r;
  r.add("GET", "/healthz", noop());
  r.add("GET", "/api/v1/projects/{id}", noop());
  r.add("GET", "/api/v1/projects/{id}/members/{jid}", noop());

  EXPECT_EQ(r.match("GET", "/healthz").kind, Kind::found);
  auto m = r.match("GET", "/api/v1/projects/p-42");
  ASSERT_EQ(m.kind, Kind::found);
  EXPECT_EQ(m.route->pattern, "/api/v1/projects/{id}");
  EXPECT_EQ(m.params, (std::map<std::string, std::string>{{"id", "p-42"}}));

  m = r.match("GET", "/api/v1/projects/p1/members/alice%40example.com");
  ASSERT_EQ(m.kind, Kind::found);
  EXPECT_EQ(m.params.at("id"), "p1");
  EXPECT_EQ(m.params.at("jid"), "alice@example.com");
}

TEST(Router, NotFound) {
  Router r;
  r.add("GET", "/api/v1/projects/{id}", noop());
  EXPECT_EQ(r.match("GET", "/api/v1/projects").kind, Kind::not_found);
  EXPECT_EQ(r.match("GET", "/api/v1/projects/").kind, Kind::not_found);  // empty {id}
  EXPECT_EQ(r.match("GET", "/api/v1/projects/a/b").kind, Kind::not_found);
  EXPECT_EQ(r.match("GET", "/healthz").kind, Kind::not_found);
  EXPECT_EQ(r.match("GET", "/api/v1/projects/a/").kind, Kind::not_found);
}

TEST(Router, EncodedSlashStaysInItsSegment) {
  Router r;
  r.add("GET", "/files/{name}", noop());
  auto m = r.match("GET", "/files/a%2Fb");
  ASSERT_EQ(m.kind, Kind::found);
  EXPECT_EQ(m.params.at("name"), "a/b");
}

TEST(Router, MalformedEscapeIsBadPath) {
  Router r;
  r.add("GET", "/files/{name}", noop());
  EXPECT_EQ(r.match("GET", "/files/%zz").kind, Kind::bad_path);
  EXPECT_EQ(r.match("GET", "/files/%4").kind, Kind::bad_path);
  EXPECT_EQ(r.match("GET", "http://example.com/files/x").kind, Kind::bad_path);
  EXPECT_EQ(r.match("GET", "").kind, Kind::bad_path);
}

TEST(Router, MethodNotAllowedListsAllowedMethods) {
  Router r;
  r.add("PUT", "/api/v1/projects/{id}", noop());
  r.add("GET", "/api/v1/projects/{id}", noop());
  r.add("DELETE", "/api/v1/projects/{id}", noop());
  auto m = r.match("POST", "/api/v1/projects/x");
  EXPECT_EQ(m.kind, Kind::method_not_allowed);
  EXPECT_EQ(m.allow, "DELETE, GET, HEAD, PUT");
}

TEST(Router, HeadFallsBackToGetButExplicitHeadWins) {
  Router r;
  r.add("GET", "/a", noop());
  r.add("GET", "/b", noop());
  r.add("HEAD", "/b", noop());
  auto a = r.match("HEAD", "/a");
  ASSERT_EQ(a.kind, Kind::found);
  EXPECT_EQ(a.route->method, "GET");
  auto b = r.match("HEAD", "/b");
  ASSERT_EQ(b.kind, Kind::found);
  EXPECT_EQ(b.route->method, "HEAD");
}

TEST(Router, LiteralBeatsParamWhateverTheOrder) {
  Router r;
  r.add("GET", "/items/{id}", noop());
  r.add("GET", "/items/new", noop());
  r.add("GET", "/{kind}/{id}/x", noop());
  r.add("GET", "/items/{id}/x", noop());
  EXPECT_EQ(r.match("GET", "/items/new").route->pattern, "/items/new");
  EXPECT_EQ(r.match("GET", "/items/old").route->pattern, "/items/{id}");
  EXPECT_EQ(r.match("GET", "/items/7/x").route->pattern, "/items/{id}/x");
  EXPECT_EQ(r.match("GET", "/other/7/x").route->pattern, "/{kind}/{id}/x");
}

TEST(Router, ReRegisteringReplaces) {
  Router r;
  int which = 0;
  r.add("GET", "/a", [&](const Request&, Respond) { which = 1; });
  r.add("GET", "/a", [&](const Request&, Respond) { which = 2; });
  EXPECT_EQ(r.size(), 1u);
  auto m = r.match("GET", "/a");
  m.route->handler(Request{}, [](Response) {});
  EXPECT_EQ(which, 2);
}

TEST(Router, MalformedPatternsThrow) {
  Router r;
  for (const char* bad : {"", "api", "/a/{", "/a/}", "/a/{}", "/a/{x", "/a/x}", "/a/{x}{y}",
                          "/a/{id}/{id}", "/a?b", "/a/{i{d}"}) {
    EXPECT_THROW(r.add("GET", bad, noop()), std::invalid_argument) << bad;
  }
  EXPECT_THROW(r.add("", "/a", noop()), std::invalid_argument);
  EXPECT_THROW(r.add("G ET", "/a", noop()), std::invalid_argument);
  EXPECT_THROW(r.add("GET", "/a", Handler{}), std::invalid_argument);
  EXPECT_EQ(r.size(), 0u);
}

TEST(UrlDecode, Decodes) {
  EXPECT_EQ(url_decode("a%20b%2fc", false), "a b/c");
  EXPECT_EQ(url_decode("a+b", false), "a+b");
  EXPECT_EQ(url_decode("a+b", true), "a b");
  EXPECT_EQ(url_decode("%E2%82%AC", false), "\xE2\x82\xAC");
  EXPECT_EQ(url_decode("", false), "");
  EXPECT_EQ(url_decode("%", false), std::nullopt);
  EXPECT_EQ(url_decode("%2", false), std::nullopt);
  EXPECT_EQ(url_decode("%g0", false), std::nullopt);
}

TEST(RequestQuery, FirstValueDecoded) {
  Request req;
  req.query = "format=html&q=caf%C3%A9+au+lait&empty=&flag&format=json&bad=%zz";
  EXPECT_EQ(req.query_param("format"), "html");
  EXPECT_EQ(req.query_param("q"), "caf\xC3\xA9 au lait");
  EXPECT_EQ(req.query_param("empty"), "");
  EXPECT_TRUE(req.has_query_param("empty"));
  EXPECT_TRUE(req.has_query_param("flag"));
  EXPECT_FALSE(req.has_query_param("missing"));
  EXPECT_EQ(req.query_param("missing"), "");
  EXPECT_FALSE(req.has_query_param("bad"));  // a malformed value counts as absent
}

TEST(Problem, Rfc9457Shape) {
  const Response r = problem(400, "Bad Request", "member 2: \"x\" is not a JID", "members[2].jid");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, "application/problem+json");
  const auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j, (nlohmann::json{{"type", "about:blank"},
                               {"title", "Bad Request"},
                               {"status", 400},
                               {"detail", "member 2: \"x\" is not a JID"},
                               {"field", "members[2].jid"}}));
}

TEST(Problem, NoFieldWhenEmptyAndAlwaysValidJson) {
  const Response r = problem(404, "Not Found", std::string("bad \xFF\xC0 utf8\n\x01 \\ end"));
  const auto j = nlohmann::json::parse(r.body);  // throws on invalid JSON or UTF-8
  EXPECT_FALSE(j.contains("field"));
  EXPECT_EQ(j.at("detail"), "bad \xEF\xBF\xBD\xEF\xBF\xBD utf8\n\x01 \\ end");
  EXPECT_EQ(j.at("status"), 404);
}

TEST(Problem, KeepsValidMultiByteUtf8) {
  const std::string detail = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80";
  const auto j = nlohmann::json::parse(problem(400, "t", detail).body);
  EXPECT_EQ(j.at("detail"), detail);
}

TEST(Json, SetsTypeAndBody) {
  const Response r = json(201, R"({"ok":true})");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"ok":true})");
  EXPECT_FALSE(r.stream);
}

Request with_auth(std::string value) {
  Request req;
  req.headers["authorization"] = std::move(value);
  return req;
}

TEST(Bearer, RightWrongMissingDifferentLength) {
  EXPECT_TRUE(bearer_ok(with_auth("Bearer s3cret-token"), "s3cret-token"));
  EXPECT_TRUE(bearer_ok(with_auth("bearer s3cret-token"), "s3cret-token"));  // scheme: any case
  EXPECT_FALSE(bearer_ok(with_auth("Bearer s3cret-tokem"), "s3cret-token"));
  EXPECT_FALSE(bearer_ok(with_auth("Bearer s3cret-toke"), "s3cret-token"));
  EXPECT_FALSE(bearer_ok(with_auth("Bearer s3cret-token2"), "s3cret-token"));
  EXPECT_FALSE(bearer_ok(with_auth("Bearer "), "s3cret-token"));
  EXPECT_FALSE(bearer_ok(with_auth("Basic czNjcmV0LXRva2Vu"), "s3cret-token"));
  EXPECT_FALSE(bearer_ok(with_auth("s3cret-token"), "s3cret-token"));
  EXPECT_FALSE(bearer_ok(Request{}, "s3cret-token"));
}

TEST(Bearer, EmptyConfiguredTokenNeverMatches) {
  EXPECT_FALSE(bearer_ok(with_auth("Bearer "), ""));
  EXPECT_FALSE(bearer_ok(with_auth("Bearer x"), ""));
}

TEST(Bearer, Unauthorized) {
  const Response r = unauthorized();
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.content_type, "application/problem+json");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "WWW-Authenticate");
  EXPECT_EQ(r.headers[0].second, "Bearer realm=\"salon\"");
  EXPECT_EQ(nlohmann::json::parse(r.body).at("status"), 401);
}

}  // namespace
}  // namespace salon::http
