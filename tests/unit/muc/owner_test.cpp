// SPDX-License-Identifier: GPL-3.0-or-later
// muc#owner: configuration form (XEP-0045 §10.2) and destruction (§10.9), plus destruction by
// the provisioning API.
#include "harness.hpp"

namespace salon::muc::test {
namespace {

constexpr const char* A = "alice@example.com/web";
constexpr const char* B = "bob@example.com/pc";
constexpr const char* S = "sam@example.com/desk";
constexpr const char* D = "ada@example.com/lab";
constexpr const char* R = "p1@rooms.example.com";

std::string form(const std::string& fields, const std::string& type = "submit") {
  return "<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='" +
         type + "'>" + fields + "</x></query>";
}
std::string f(const std::string& var, const std::string& value) {
  return "<field var='" + var + "'><value>" + value + "</value></field>";
}
const std::string FT = f("FORM_TYPE", "http://jabber.org/protocol/muc#roomconfig");

TEST(Config, OwnerGetsFormWithCurrentValues) {
  RoomBench b;
  b.store.add_room("p1", "Kitchen").description = "Remodel";
  b.iq(S, R, "get", "<query xmlns='http://jabber.org/protocol/muc#owner'/>", "c1");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(
      out[0],
      "<iq type='result' id='c1' from='p1@rooms.example.com' to='sam@example.com/desk'>"
      "<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' "
      "type='form'><title>Configuration for p1@rooms.example.com</title>"
      "<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roomconfig"
      "</value></field>"
      "<field var='muc#roomconfig_roomname' type='text-single' label='Name'><value>Kitchen"
      "</value></field>"
      "<field var='muc#roomconfig_roomdesc' type='text-single' label='Description'><value>"
      "Remodel</value></field>"
      "<field var='muc#roomconfig_changesubject' type='boolean' label='Allow members to "
      "change the subject'><value>1</value></field>"
      "<field var='muc#roomconfig_allowpm' type='list-single' label='Allow private messages'>"
      "<value>anyone</value><option label='Everyone'><value>anyone</value></option>"
      "<option label='Nobody'><value>none</value></option></field>"
      "<field var='muc#roomconfig_persistentroom' type='boolean' label='Persistent (fixed)'>"
      "<value>1</value></field>"
      "<field var='muc#roomconfig_membersonly' type='boolean' label='Members only (fixed)'>"
      "<value>1</value></field>"
      "<field var='muc#roomconfig_whois' type='list-single' label='Real JIDs visible to "
      "(fixed)'><value>anyone</value><option label='Anyone'><value>anyone</value></option>"
      "</field></x></query></iq>");
}

TEST(Config, NonOwnersAreForbidden) {
  RoomBench b;
  b.iq(D, R, "get", "<query xmlns='http://jabber.org/protocol/muc#owner'/>");
  EXPECT_EQ(error_condition(b.take()[0]), "forbidden");
  b.iq("mallory@example.com/x", R, "set", form(FT));
  EXPECT_EQ(error_condition(b.take()[0]), "forbidden");
}

TEST(Config, SubmitChangesPersistsAndAnnounces104) {
  RoomBench b;
  b.joined(A, "Alice");
  b.iq(S, R, "set",
       form(FT + f("muc#roomconfig_roomname", "Kitchen 2") + f("muc#roomconfig_roomdesc", "New") +
            f("muc#roomconfig_changesubject", "0") + f("muc#roomconfig_allowpm", "none") +
            f("muc#roomconfig_persistentroom", "1") + f("muc#roomconfig_whois", "anyone") +
            f("muc#roomconfig_unknown_thing", "x")),
       "s1");
  auto sam = b.take_to(S);
  ASSERT_EQ(sam.size(), 1u);
  EXPECT_EQ(sam[0].attr("type"), "result");
  auto alice = b.take_to(A);
  ASSERT_EQ(alice.size(), 1u);
  EXPECT_STANZA(alice[0],
                "<message type='groupchat' from='p1@rooms.example.com' "
                "to='alice@example.com/web'><x "
                "xmlns='http://jabber.org/protocol/muc#user'><status code='104'/>"
                "</x></message>");
  const RoomRecord* r = b.store.room("p1");
  EXPECT_EQ(r->name, "Kitchen 2");
  EXPECT_EQ(r->description, "New");
  EXPECT_FALSE(r->settings.members_can_change_subject);
  EXPECT_FALSE(r->settings.allow_private_messages);
  // Live: members may no longer change the subject.
  b.send(
      "<message type='groupchat' from='alice@example.com/web' to='p1@rooms.example.com'>"
      "<subject>x</subject></message>");
  EXPECT_EQ(error_condition(b.take()[0]), "forbidden");
}

TEST(Config, BackToBackChangesBothApply) {
  RoomBench b;
  for (const auto& [id, field] : {std::pair{"c1", f("muc#roomconfig_roomname", "Kitchen 2")},
                                  std::pair{"c2", f("muc#roomconfig_roomdesc", "Tiles")}})
    b.service->handle(xml(std::string("<iq type='set' id='") + id + "' from='" + S + "' to='" + R +
                          "'>" + form(FT + field) + "</iq>"));
  // A subject change right behind them is stored without undoing either.
  b.joined(S, "Sam");
  b.send(std::string("<message type='groupchat' from='") + S + "' to='" + R +
         "'><subject>Grout</subject></message>");
  const RoomRecord* r = b.store.room("p1");
  EXPECT_EQ(r->name, "Kitchen 2");
  EXPECT_EQ(r->description, "Tiles");
  EXPECT_EQ(r->subject, "Grout");
}

TEST(Config, CancelAndUnchangedLeaveEverythingAsItWas) {
  RoomBench b;
  b.joined(A, "Alice");
  b.iq(S, R, "set", form(f("muc#roomconfig_roomname", "X"), "cancel"));
  EXPECT_EQ(b.take_to(S)[0].attr("type"), "result");
  b.iq(S, R, "set", form(FT + f("muc#roomconfig_roomname", "Kitchen")));
  EXPECT_EQ(b.take_to(S)[0].attr("type"), "result");
  EXPECT_TRUE(b.take().empty());  // no 104
  EXPECT_EQ(b.store.room("p1")->name, "Kitchen");
  // An empty owner query ("instant room") is fine: the room exists.
  b.iq(S, R, "set", "<query xmlns='http://jabber.org/protocol/muc#owner'/>");
  EXPECT_EQ(b.take()[0].attr("type"), "result");
}

TEST(Config, FeaturesSalonDoesNotOfferAreNotAcceptable) {
  RoomBench b;
  for (const auto& field :
       {f("muc#roomconfig_membersonly", "0"), f("muc#roomconfig_persistentroom", "0"),
        f("muc#roomconfig_passwordprotectedroom", "1"), f("muc#roomconfig_roomsecret", "pw"),
        f("muc#roomconfig_whois", "moderators"), f("muc#roomconfig_publicroom", "1")}) {
    b.iq(S, R, "set", form(FT + f("muc#roomconfig_roomname", "Changed") + field));
    auto out = b.take();
    ASSERT_EQ(out.size(), 1u) << field;
    EXPECT_EQ(error_condition(out[0]), "not-acceptable") << field;
  }
  EXPECT_EQ(b.store.room("p1")->name, "Kitchen");
  b.iq(S, R, "set", form(f("FORM_TYPE", "urn:other")));
  EXPECT_EQ(error_condition(b.take()[0]), "bad-request");
}

TEST(Destroy, OwnerDestroysEveryoneGetsOneUnavailable) {
  RoomBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.iq(S, R, "set",
       "<query xmlns='http://jabber.org/protocol/muc#owner'><destroy "
       "jid='p2@rooms.example.com'><reason>moved</reason></destroy></query>",
       "x1");
  const std::string destroy =
      "<destroy jid='p2@rooms.example.com'><reason>moved</reason></destroy>";
  auto alice = b.take_to(A);
  ASSERT_EQ(alice.size(), 1u);
  EXPECT_STANZA(alice[0], presence_xml({.from = "p1@rooms.example.com/Alice",
                                        .to = A,
                                        .aff = "none",
                                        .role = "none",
                                        .jid = A,
                                        .codes = {110},
                                        .type = "unavailable",
                                        .x_extra = destroy,
                                        .oid = b.oid("alice@example.com")}));
  EXPECT_EQ(b.take_to(B).size(), 1u);
  auto sam = b.take();
  ASSERT_EQ(sam.size(), 1u);
  EXPECT_STANZA(sam[0],
                "<iq type='result' id='x1' from='p1@rooms.example.com' "
                "to='sam@example.com/desk'/>");
  EXPECT_EQ(b.store.room("p1"), nullptr);
  EXPECT_EQ(b.service->occupants(), 0u);
  b.settle();
  EXPECT_EQ(b.service->loaded_rooms(), 0u);
  b.join(A, "Alice");
  EXPECT_EQ(error_condition(b.take()[0]), "item-not-found");
}

TEST(Destroy, OnlyOwners) {
  RoomBench b;
  for (const char* who : {D, A, "eve@example.com/x", "mallory@example.com/x"}) {
    b.iq(who, R, "set", "<query xmlns='http://jabber.org/protocol/muc#owner'><destroy/></query>");
    EXPECT_EQ(error_condition(b.take()[0]), "forbidden") << who;
  }
  EXPECT_NE(b.store.room("p1"), nullptr);
}

TEST(Destroy, StoreFailureKeepsTheRoom) {
  RoomBench b;
  b.joined(A, "Alice");
  b.store.fail_next("delete_room", "db down");
  b.iq(S, R, "set", "<query xmlns='http://jabber.org/protocol/muc#owner'><destroy/></query>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(error_condition(out[0]), "internal-server-error");
  EXPECT_EQ(b.service->occupants(), 1u);
}

TEST(Destroy, ProjectDeletedByTheApi) {
  RoomBench b;
  b.joined(A, "Alice");
  b.service->project_deleted("p1");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0], presence_xml({.from = "p1@rooms.example.com/Alice",
                                      .to = A,
                                      .aff = "none",
                                      .role = "none",
                                      .jid = A,
                                      .codes = {110},
                                      .type = "unavailable",
                                      .x_extra = "<destroy/>",
                                      .oid = b.oid("alice@example.com")}));
  b.settle();
  EXPECT_EQ(b.service->loaded_rooms(), 0u);
  b.service->project_deleted("p1");  // not loaded: nothing happens
  EXPECT_TRUE(b.take().empty());
}

}  // namespace
}  // namespace salon::muc::test
