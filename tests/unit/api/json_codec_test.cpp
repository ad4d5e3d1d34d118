// SPDX-License-Identifier: GPL-3.0-or-later
// Request bodies in (type errors, with the field named) and the project JSON out.
#include "api/json_codec.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace salon::api {
namespace {

using nlohmann::json;

FieldError parse_error(std::string_view body) {
  auto r = parse_project_body(body);
  if (auto* e = std::get_if<FieldError>(&r)) return *e;
  ADD_FAILURE() << "expected an error for " << body;
  return {};
}

ProjectInput parsed(std::string_view body) {
  auto r = parse_project_body(body);
  if (auto* e = std::get_if<FieldError>(&r)) {
    ADD_FAILURE() << e->field << ": " << e->detail;
    return {};
  }
  return std::get<ProjectInput>(r);
}

TEST(ParseBody, FullBody) {
  const auto p = parsed(R"({"name":"N","description":"D","members":[
      {"jid":"a@localhost","name":"A","email":"a@example.com","role":"client"},
      {"jid":"b@localhost","name":"B","role":"staff"}]})");
  EXPECT_EQ(p.name, "N");
  EXPECT_EQ(p.description, "D");
  ASSERT_TRUE(p.members);
  ASSERT_EQ(p.members->size(), 2u);
  EXPECT_EQ((*p.members)[0].email, "a@example.com");
  EXPECT_EQ((*p.members)[1].email, std::nullopt);
  EXPECT_EQ((*p.members)[1].role, "staff");
}

TEST(ParseBody, NullAndMissingAreAbsent) {
  const auto p = parsed(R"({"name":null,"members":[{"jid":null}]})");
  EXPECT_EQ(p.name, std::nullopt);
  EXPECT_EQ(p.description, std::nullopt);
  ASSERT_TRUE(p.members);
  EXPECT_EQ((*p.members)[0].jid, std::nullopt);
  EXPECT_EQ(parsed(R"({"name":"x"})").members, std::nullopt);
}

TEST(ParseBody, UnknownMembersAreIgnored) {
  // A GET answer sent back as a PUT body works.
  const auto p = parsed(R"({"id":"p","room_jid":"p@rooms","subject":"s","name":"N",
      "members":[{"jid":"a@localhost","name":"A","role":"client","affiliation":"member"}],
      "xmpp_affiliations":[]})");
  EXPECT_EQ(p.name, "N");
  EXPECT_EQ(p.members->size(), 1u);
}

TEST(ParseBody, InvalidJson) {
  for (const char* body : {"", "{", "{\"name\": }", "nonsense", "{\"name\":\"a\",}"}) {
    const auto e = parse_error(body);
    EXPECT_EQ(e.field, "") << body;
    EXPECT_NE(e.detail.find("not valid JSON"), std::string::npos) << e.detail;
  }
}

TEST(ParseBody, InvalidUtf8IsInvalidJson) {
  const auto e = parse_error("{\"name\":\"\xff\"}");
  EXPECT_NE(e.detail.find("not valid JSON"), std::string::npos) << e.detail;
}

TEST(ParseBody, BodyMustBeAnObject) {
  for (const char* body : {"[]", "\"x\"", "1", "null"}) {
    const auto e = parse_error(body);
    EXPECT_EQ(e.field, "") << body;
    EXPECT_NE(e.detail.find("object"), std::string::npos) << e.detail;
  }
}

TEST(ParseBody, DeepNestingIsRefusedBeforeParsing) {
  const auto e = parse_error(std::string(100000, '['));
  EXPECT_NE(e.detail.find("nests deeper"), std::string::npos) << e.detail;
  // Brackets inside strings do not count.
  EXPECT_EQ(parsed(R"({"name":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"[[[["})").name,
            "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"[[[[");
}

TEST(ParseBody, MembersMustBeAnArray) {
  for (const char* body : {R"({"members":{}})", R"({"members":"a@b"})", R"({"members":3})"}) {
    const auto e = parse_error(body);
    EXPECT_EQ(e.field, "members") << body;
    EXPECT_NE(e.detail.find("array"), std::string::npos) << e.detail;
  }
}

TEST(ParseBody, MemberMustBeAnObject) {
  const auto e = parse_error(R"({"members":[{"jid":"a@b"}, "b@c"]})");
  EXPECT_EQ(e.field, "members[1]");
}

TEST(ParseBody, StringFieldsMustBeStrings) {
  EXPECT_EQ(parse_error(R"({"name":1})").field, "name");
  EXPECT_EQ(parse_error(R"({"name":"n","description":[]})").field, "description");
  EXPECT_EQ(parse_error(R"({"members":[{"jid":true}]})").field, "members[0].jid");
  EXPECT_EQ(parse_error(R"({"members":[{"jid":"a@b","name":{}}]})").field, "members[0].name");
  EXPECT_EQ(parse_error(R"({"members":[{"email":5}]})").field, "members[0].email");
  EXPECT_EQ(parse_error(R"({"members":[{},{"role":["staff"]}]})").field, "members[1].role");
}

TEST(ParseBody, TooManyMembers) {
  std::string body = R"({"members":[)";
  for (std::size_t i = 0; i <= kMaxMembers; ++i)
    body += (i ? ",{}" : "{}");
  body += "]}";
  EXPECT_EQ(parse_error(body).field, "members");
}

TEST(ProjectJson, ShowsProvisionedMembersAndXmppAffiliationsApart) {
  muc::RoomRecord room;
  room.id = 7;
  room.local = "p-1";
  room.name = "Kitchen";
  room.description = "D \"quoted\"";
  room.subject = "Welcome";
  room.affiliations = {
      {"alice@localhost", muc::Affiliation::member, "Alice", "alice@example.com", "client", ""},
      {"carol@localhost", muc::Affiliation::owner, "Carol", "", "staff", ""},
      {"troll@localhost", muc::Affiliation::outcast, "", "", "", "spam"},
      {"dave@localhost", muc::Affiliation::member, "Dave", "", "", ""},
  };
  const auto j = json::parse(project_json(room, "rooms.localhost"));
  EXPECT_EQ(j["id"], "p-1");
  EXPECT_EQ(j["room_jid"], "p-1@rooms.localhost");
  EXPECT_EQ(j["name"], "Kitchen");
  EXPECT_EQ(j["description"], "D \"quoted\"");
  EXPECT_EQ(j["subject"], "Welcome");
  ASSERT_EQ(j["members"].size(), 2u);
  EXPECT_EQ(j["members"][0], json({{"jid", "alice@localhost"},
                                   {"name", "Alice"},
                                   {"email", "alice@example.com"},
                                   {"role", "client"},
                                   {"affiliation", "member"}}));
  EXPECT_EQ(j["members"][1], json({{"jid", "carol@localhost"},
                                   {"name", "Carol"},
                                   {"role", "staff"},
                                   {"affiliation", "owner"}}));
  ASSERT_EQ(j["xmpp_affiliations"].size(), 2u);
  EXPECT_EQ(j["xmpp_affiliations"][0],
            json({{"jid", "troll@localhost"}, {"affiliation", "outcast"}, {"reason", "spam"}}));
  EXPECT_EQ(j["xmpp_affiliations"][1],
            json({{"jid", "dave@localhost"}, {"affiliation", "member"}, {"nick", "Dave"}}));
}

TEST(ProjectJson, EmptyListsAreArrays) {
  muc::RoomRecord room;
  room.local = "p";
  const auto j = json::parse(project_json(room, "rooms.localhost"));
  EXPECT_TRUE(j["members"].is_array());
  EXPECT_TRUE(j["xmpp_affiliations"].is_array());
}

TEST(ProjectJson, RoundTripsThroughParse) {
  muc::RoomRecord room;
  room.local = "p";
  room.name = "N";
  room.affiliations = {{"a@localhost", muc::Affiliation::member, "A", "", "client", ""}};
  const auto p = parsed(project_json(room, "rooms.localhost"));
  EXPECT_EQ(p.name, "N");
  ASSERT_EQ(p.members->size(), 1u);
  EXPECT_EQ((*p.members)[0].jid, "a@localhost");
  EXPECT_EQ((*p.members)[0].name, "A");
  EXPECT_EQ((*p.members)[0].role, "client");
}

}  // namespace
}  // namespace salon::api
