// SPDX-License-Identifier: GPL-3.0-or-later
// The route handlers, called directly (no socket) against an in-memory RoomStore that answers
// on the loop like the real one: auth, status codes, problem+json bodies, live hooks.
#include "api/projects.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "http/http.hpp"

namespace salon::api {
namespace {

using nlohmann::json;
constexpr const char* kToken = "t0ken-for-tests";

// Keeps rooms in a map; every answer is posted to the loop. `fail` makes the next calls fail.
class FakeStore final : public muc::RoomStore {
public:
  explicit FakeStore(boost::asio::io_context& io) : io_(io) {}

  std::map<std::string, muc::RoomRecord> rooms;
  std::string fail;  // non-empty: every call fails with this message
  int calls = 0;

  void load_room(
      const std::string& local,
      std::function<void(std::optional<muc::RoomRecord>, muc::StoreError)> done) override {
    ++calls;
    std::optional<muc::RoomRecord> r;
    if (auto it = rooms.find(local); it != rooms.end()) r = it->second;
    later([=, this] { fail.empty() ? done(r, {}) : done(std::nullopt, {fail}); });
  }
  void upsert_project(
      const muc::ProjectSpec& spec,
      std::function<void(std::optional<muc::RoomRecord>, bool, muc::StoreError)> done) override {
    ++calls;
    if (!fail.empty()) return later([=, this] { done(std::nullopt, false, {fail}); });
    const bool created = !rooms.contains(spec.local);
    auto& room = rooms[spec.local];
    if (created) room.id = static_cast<std::int64_t>(rooms.size());
    room.local = spec.local;
    room.name = spec.name;
    room.description = spec.description;
    room.affiliations = spec.members;
    later([=] { done(room, created, {}); });
  }
  void delete_room(const std::string& local,
                   std::function<void(bool, muc::StoreError)> done) override {
    ++calls;
    if (!fail.empty()) return later([=, this] { done(false, {fail}); });
    const bool existed = rooms.erase(local) > 0;
    later([=] { done(existed, {}); });
  }
  void set_affiliation(std::int64_t, const muc::AffiliationRecord&,
                       std::function<void(muc::StoreError)>) override {
    ADD_FAILURE() << "the API does not set single affiliations";
  }
  void save_room(const muc::RoomRecord&, std::function<void(muc::StoreError)>) override {
    ADD_FAILURE() << "the API does not save rooms";
  }
  void save_occupants(std::int64_t, std::vector<muc::PersistedOccupant>,
                      std::function<void(muc::StoreError)>) override {
    ADD_FAILURE() << "the API does not save occupants";
  }
  void load_occupied_rooms(
      std::function<void(std::vector<muc::RestoredRoom>, muc::StoreError)>) override {
    ADD_FAILURE() << "the API does not restore rooms";
  }
  void rooms_of(const std::string&,
                std::function<void(std::map<std::string, std::string>, muc::StoreError)>) override {
    ADD_FAILURE() << "the API does not list rooms per user";
  }

private:
  void later(std::function<void()> f) { boost::asio::post(io_, std::move(f)); }
  boost::asio::io_context& io_;
};

class ProjectsApiTest : public ::testing::Test {
protected:
  ProjectsApiTest() : api_(store_, "rooms.localhost", hooks(), settings(kToken)) {}

  ProjectHooks hooks() {
    return {[this](const muc::RoomRecord& r) { changed_.push_back(r); },
            [this](const std::string& local) { deleted_.push_back(local); }};
  }
  static ApiSettings settings(std::string token) {
    return {
        std::move(token),
        make_rules({{"client", "member"}, {"designer", "member"}, {"staff", "owner"}}, 64).rules};
  }

  static http::Request request(std::string method, std::string id, std::string body = {},
                               std::optional<std::string> token = kToken) {
    http::Request r;
    r.method = std::move(method);
    r.path = "/api/v1/projects/" + id;
    r.params["id"] = std::move(id);
    r.body = std::move(body);
    if (token) r.headers["authorization"] = "Bearer " + *token;
    return r;
  }

  // Calls the handler for req.method and runs the loop until it has answered (exactly once).
  http::Response call(const http::Request& req) {
    std::vector<http::Response> answers;
    auto respond = [&](http::Response r) { answers.push_back(std::move(r)); };
    if (req.method == "PUT")
      api_.put(req, respond);
    else if (req.method == "GET")
      api_.get(req, respond);
    else
      api_.remove(req, respond);
    io_.restart();
    io_.run();
    EXPECT_EQ(answers.size(), 1u) << req.method << " " << req.path;
    return answers.empty() ? http::Response{} : answers.front();
  }

  static json body_of(const http::Response& r) { return json::parse(r.body); }

  static void expect_problem(const http::Response& r, int status, std::string_view field = {}) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.content_type, "application/problem+json");
    const auto j = body_of(r);
    EXPECT_EQ(j["status"], status);
    if (field.empty())
      EXPECT_FALSE(j.contains("field")) << r.body;
    else
      EXPECT_EQ(j.value("field", ""), field) << r.body;
  }

  static std::string project_body() {
    return R"({"name":"Kitchen","description":"Two walls","members":[
      {"jid":"alice@localhost","name":"Alice","email":"alice@example.com","role":"client"},
      {"jid":"bob@localhost","name":"Bob","role":"designer"},
      {"jid":"carol@localhost","name":"Carol","role":"staff"}]})";
  }

  boost::asio::io_context io_;
  FakeStore store_{io_};
  std::vector<muc::RoomRecord> changed_;
  std::vector<std::string> deleted_;
  ProjectsApi api_;
};

TEST_F(ProjectsApiTest, PutCreatesThenUpdates) {
  auto r = call(request("PUT", "p-1", project_body()));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  const auto location =
      std::find(r.headers.begin(), r.headers.end(),
                std::pair<std::string, std::string>{"Location", "/api/v1/projects/p-1"});
  EXPECT_NE(location, r.headers.end());
  auto j = body_of(r);
  EXPECT_EQ(j["id"], "p-1");
  EXPECT_EQ(j["room_jid"], "p-1@rooms.localhost");
  ASSERT_EQ(j["members"].size(), 3u);
  EXPECT_EQ(j["members"][2]["affiliation"], "owner");
  EXPECT_EQ(j["members"][0]["affiliation"], "member");
  ASSERT_EQ(changed_.size(), 1u);
  EXPECT_EQ(changed_[0].local, "p-1");
  EXPECT_EQ(changed_[0].affiliations.size(), 3u);

  r = call(request("PUT", "p-1", R"({"name":"Renamed","members":[]})"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r)["name"], "Renamed");
  EXPECT_TRUE(body_of(r)["members"].empty());
  ASSERT_EQ(changed_.size(), 2u);
  EXPECT_TRUE(changed_[1].affiliations.empty());
}

TEST_F(ProjectsApiTest, PutIsIdempotent) {
  const auto first = call(request("PUT", "p", project_body()));
  const auto second = call(request("PUT", "p", project_body()));
  EXPECT_EQ(first.status, 201);
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(body_of(first), body_of(second));
}

TEST_F(ProjectsApiTest, GetAnswersTheProjectOr404) {
  call(request("PUT", "p", project_body()));
  auto r = call(request("GET", "p"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r)["name"], "Kitchen");
  expect_problem(call(request("GET", "nope")), 404);
}

TEST_F(ProjectsApiTest, DeleteAnswers204Then404) {
  call(request("PUT", "p", project_body()));
  auto r = call(request("DELETE", "p"));
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(deleted_, std::vector<std::string>{"p"});
  expect_problem(call(request("DELETE", "p")), 404);
  EXPECT_EQ(deleted_.size(), 1u) << "no hook for a project that did not exist";
  expect_problem(call(request("GET", "p")), 404);
}

TEST_F(ProjectsApiTest, NoTokenConfiguredDisablesTheApi) {
  api_.reload(settings(""));
  for (const char* method : {"PUT", "GET", "DELETE"}) {
    auto r = call(request(method, "p", project_body()));
    expect_problem(r, 503);
    EXPECT_NE(body_of(r)["detail"].get<std::string>().find("no http.api_token"), std::string::npos);
  }
  EXPECT_EQ(store_.calls, 0);
}

TEST_F(ProjectsApiTest, MissingOrWrongTokenIs401) {
  for (const char* method : {"PUT", "GET", "DELETE"}) {
    expect_problem(call(request(method, "p", project_body(), std::nullopt)), 401);
    expect_problem(call(request(method, "p", project_body(), "wrong")), 401);
    expect_problem(call(request(method, "p", project_body(), std::string(kToken) + "x")), 401);
  }
  auto basic = request("GET", "p");
  basic.headers["authorization"] = std::string("Basic ") + kToken;
  expect_problem(call(basic), 401);
  EXPECT_EQ(store_.calls, 0);
  EXPECT_TRUE(changed_.empty());
}

TEST_F(ProjectsApiTest, AuthComesBeforeValidation) {
  expect_problem(call(request("PUT", "Bad Id", "{", "wrong")), 401);
}

TEST_F(ProjectsApiTest, ReloadChangesTheToken) {
  api_.reload(settings("new-token"));
  expect_problem(call(request("GET", "p")), 401);
  expect_problem(call(request("GET", "p", {}, "new-token")), 404);
}

TEST_F(ProjectsApiTest, InvalidProjectIdIs400OnEveryRoute) {
  for (const char* method : {"PUT", "GET", "DELETE"})
    expect_problem(call(request(method, "Not_Valid!", project_body())), 400, "id");
  EXPECT_EQ(store_.calls, 0);
}

TEST_F(ProjectsApiTest, BadBodiesAre400WithTheField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{", ""},
      {"[]", ""},
      {R"({"members":[]})", "name"},
      {R"({"name":""})", "name"},
      {R"({"name":"n"})", "members"},
      {R"({"name":"n","members":{}})", "members"},
      {R"({"name":"n","members":[{"jid":"a@localhost","name":"A","role":"client"},
          {"jid":"not a jid","name":"B","role":"client"}]})",
       "members[1].jid"},
      {R"({"name":"n","members":[{"jid":"a@localhost/r","name":"A","role":"client"}]})",
       "members[0].jid"},
      {R"({"name":"n","members":[{"jid":"a@localhost","name":"A","role":"boss"}]})",
       "members[0].role"},
      {R"({"name":"n","members":[{"jid":"a@localhost","role":"client"}]})", "members[0].name"},
      {R"({"name":"n","members":[{"jid":"a@localhost","name":"A","role":"client"},
          {"jid":"a@localhost","name":"B","role":"client"}]})",
       "members[1].jid"},
      {R"({"name":"n","members":[{"jid":"a@localhost","name":"A","role":"client"},
          {"jid":"b@localhost","name":"A","role":"client"}]})",
       "members[1].name"},
  };
  for (const auto& [body, field] : cases) {
    SCOPED_TRACE(body);
    expect_problem(call(request("PUT", "p", body)), 400, field);
  }
  EXPECT_EQ(store_.calls, 0);
  EXPECT_TRUE(changed_.empty());
}

TEST_F(ProjectsApiTest, StoreFailureIs503AndNoHook) {
  store_.fail = "PostgreSQL unavailable: connection refused";
  for (const char* method : {"PUT", "GET", "DELETE"}) {
    auto r = call(request(method, "p", project_body()));
    expect_problem(r, 503);
    EXPECT_EQ(r.body.find("connection refused"), std::string::npos)
        << "database errors are logged, not sent to the client";
  }
  EXPECT_TRUE(changed_.empty());
  EXPECT_TRUE(deleted_.empty());
}

TEST_F(ProjectsApiTest, ThrowingHookStillAnswers) {
  ProjectsApi api(store_, "rooms.localhost",
                  {[](const muc::RoomRecord&) { throw std::runtime_error("boom"); },
                   [](const std::string&) { throw std::runtime_error("boom"); }},
                  settings(kToken));
  std::vector<int> statuses;
  api.put(request("PUT", "p", project_body()),
          [&](http::Response r) { statuses.push_back(r.status); });
  io_.run();
  io_.restart();
  api.remove(request("DELETE", "p"), [&](http::Response r) { statuses.push_back(r.status); });
  io_.run();
  EXPECT_EQ(statuses, (std::vector<int>{201, 204}));
}

TEST_F(ProjectsApiTest, AnswersArriveAfterTheApiIsGone) {
  std::optional<ProjectsApi> api;
  api.emplace(store_, "rooms.localhost", hooks(), settings(kToken));
  std::optional<int> status;
  api->put(request("PUT", "p", project_body()), [&](http::Response r) { status = r.status; });
  api.reset();
  io_.run();
  EXPECT_EQ(status, 201);
}

TEST(ApiSettings, FromConfig) {
  config::Config c;
  c.http.api_token = "abc";
  c.muc.role_affiliations = {{"client", "member"}, {"bad", "outcast"}};
  c.muc.max_nick_chars = 12;
  const auto s = settings_from(c);
  EXPECT_EQ(s.api_token, "abc");
  EXPECT_EQ(s.rules.max_nick_chars, 12u);
  EXPECT_EQ(s.rules.role_affiliations.size(), 1u);
  EXPECT_TRUE(s.rules.role_affiliations.contains("client"));
}

}  // namespace
}  // namespace salon::api
