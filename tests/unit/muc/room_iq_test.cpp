// SPDX-License-Identifier: GPL-3.0-or-later
// IQs to a room and to occupants: disco#info/items (XEP-0045 §6.4-6.7), reserved nick
// (§7.12), jabber:iq:register (§7.10), IQ forwarding to occupants, XEP-0410 self-ping.
#include "harness.hpp"

namespace salon::muc::test {
namespace {

constexpr const char* A = "alice@example.com/web";
constexpr const char* A2 = "alice@example.com/phone";
constexpr const char* B = "bob@example.com/pc";
constexpr const char* R = "p1@rooms.example.com";
const std::string DISCO = "<query xmlns='http://jabber.org/protocol/disco#info'/>";

TEST(RoomDisco, InfoForAMember) {
  RoomBench b;
  b.store.add_room("p1", "Kitchen").description = "Remodel";
  b.store.add_room("p1", "Kitchen").subject = "Tiles";
  b.joined(B, "Bob");
  b.iq(A, R, "get", DISCO, "d1");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(
      out[0],
      "<iq type='result' id='d1' from='p1@rooms.example.com' to='alice@example.com/web'>"
      "<query xmlns='http://jabber.org/protocol/disco#info'>"
      "<identity category='conference' type='text' name='Kitchen'/>"
      "<feature var='http://jabber.org/protocol/muc'/>"
      "<feature var='muc_membersonly'/><feature var='muc_nonanonymous'/>"
      "<feature var='muc_persistent'/><feature var='muc_hidden'/>"
      "<feature var='muc_unsecured'/><feature var='urn:xmpp:sid:0'/>"
      "<feature var='urn:xmpp:occupant-id:0'/>"
      "<feature var='http://jabber.org/protocol/muc#self-ping-optimization'/>"
      "<feature var='http://jabber.org/protocol/muc#stable_id'/>"
      "<feature var='jabber:iq:register'/>"
      "<feature var='http://jabber.org/protocol/disco#info'/>"
      "<x xmlns='jabber:x:data' type='result'>"
      "<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roominfo"
      "</value></field>"
      "<field var='muc#roominfo_description' label='Description'><value>Remodel</value></field>"
      "<field var='muc#roominfo_occupants' label='Number of occupants'><value>1</value></field>"
      "<field var='muc#roominfo_subject' label='Subject'><value>Tiles</value></field>"
      "<field var='muc#roomconfig_roomname' label='Name'><value>Kitchen</value></field>"
      "</x></query></iq>");
}

TEST(RoomDisco, OutsidersLearnNoProjectData) {
  RoomBench b;
  b.iq("mallory@example.com/x", R, "get", DISCO);
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  const Element* q = out[0].child("query");
  ASSERT_TRUE(q);
  EXPECT_FALSE(q->child("identity")->has_attr("name"));
  EXPECT_FALSE(q->child("x"));
  EXPECT_FALSE(q->children_named("feature").empty());
}

TEST(RoomDisco, ReservedNickNode) {
  RoomBench b;
  b.iq(A, R, "get",
       "<query xmlns='http://jabber.org/protocol/disco#info' node='x-roomuser-item'/>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0],
                "<iq type='result' id='q1' from='p1@rooms.example.com' "
                "to='alice@example.com/web'><query "
                "xmlns='http://jabber.org/protocol/disco#info' node='x-roomuser-item'>"
                "<identity category='conference' name='Alice' type='text'/></query></iq>");
  b.iq("mallory@example.com/x", R, "get",
       "<query xmlns='http://jabber.org/protocol/disco#info' node='x-roomuser-item'/>");
  out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].child("query")->child("identity"));
}

TEST(RoomDisco, ItemsAreEmpty) {
  RoomBench b;
  b.joined(B, "Bob");
  b.iq(A, R, "get", "<query xmlns='http://jabber.org/protocol/disco#items'/>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0],
                "<iq type='result' id='q1' from='p1@rooms.example.com' "
                "to='alice@example.com/web'><query "
                "xmlns='http://jabber.org/protocol/disco#items'/></iq>");
}

TEST(RoomIq, UnknownNamespaceIsServiceUnavailable) {
  RoomBench b;
  b.iq(A, R, "get", "<query xmlns='jabber:iq:version'/>");
  EXPECT_EQ(error_condition(b.take()[0]), "service-unavailable");
}

TEST(Register, MemberGetsRegisteredAndNick) {
  RoomBench b;
  b.iq(A, R, "get", "<query xmlns='jabber:iq:register'/>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0],
                "<iq type='result' id='q1' from='p1@rooms.example.com' "
                "to='alice@example.com/web'><query xmlns='jabber:iq:register'>"
                "<registered/><username>Alice</username></query></iq>");
}

TEST(Register, ErrorsForOthersAndForSet) {
  RoomBench b;
  b.iq("mallory@example.com/x", R, "get", "<query xmlns='jabber:iq:register'/>");
  EXPECT_EQ(error_condition(b.take()[0]), "registration-required");
  b.iq("eve@example.com/x", R, "get", "<query xmlns='jabber:iq:register'/>");
  EXPECT_EQ(error_condition(b.take()[0]), "forbidden");
  b.iq(A, R, "set",
       "<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'/></query>");
  EXPECT_EQ(error_condition(b.take()[0]), "not-allowed");
}

TEST(SelfPing, JoinedResourceGetsResult) {
  RoomBench b;
  b.joined(A, "Alice");
  b.iq(A, "p1@rooms.example.com/Alice", "get", "<ping xmlns='urn:xmpp:ping'/>", "sp");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0],
                "<iq type='result' id='sp' from='p1@rooms.example.com/Alice' "
                "to='alice@example.com/web'/>");
}

TEST(SelfPing, EachResourceOfAMultiSessionNick) {
  RoomBench b;
  b.joined(A, "Alice");
  b.joined(A2, "Alice");
  b.iq(A2, "p1@rooms.example.com/Alice", "get", "<ping xmlns='urn:xmpp:ping'/>", "sp");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("type"), "result");
}

TEST(SelfPing, NotJoinedIsNotAcceptableByRoom) {
  RoomBench b;
  b.joined(B, "Bob");
  b.iq(A, "p1@rooms.example.com/Alice", "get", "<ping xmlns='urn:xmpp:ping'/>", "sp");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0],
                "<iq type='error' id='sp' from='p1@rooms.example.com/Alice' "
                "to='alice@example.com/web'><error type='cancel' "
                "by='p1@rooms.example.com'><not-acceptable "
                "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
}

TEST(OccupantIq, NonOccupantGetsBadRequest) {
  RoomBench b;
  b.joined(B, "Bob");
  b.iq(A, "p1@rooms.example.com/Bob", "get", DISCO);
  EXPECT_EQ(error_condition(b.take()[0]), "bad-request");
}

TEST(OccupantIq, UnknownTargetIsItemNotFound) {
  RoomBench b;
  b.joined(A, "Alice");
  b.iq(A, "p1@rooms.example.com/Nobody", "get", DISCO);
  EXPECT_EQ(error_condition(b.take()[0]), "item-not-found");
}

TEST(OccupantIq, ForwardedAndReplyRoutedBack) {
  RoomBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.iq(A, "p1@rooms.example.com/Bob", "get", DISCO, "orig");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  const std::string fid(out[0].attr("id"));
  EXPECT_NE(fid, "orig");
  EXPECT_STANZA(out[0], "<iq type='get' id='" + fid +
                            "' from='p1@rooms.example.com/Alice' "
                            "to='bob@example.com/pc'>" +
                            DISCO + "</iq>");
  // A reply from someone else is ignored.
  b.send("<iq type='result' id='" + fid +
         "' from='mallory@example.com/x' "
         "to='p1@rooms.example.com/Alice'/>");
  EXPECT_TRUE(b.take().empty());
  b.send("<iq type='result' id='" + fid +
         "' from='bob@example.com/pc' "
         "to='p1@rooms.example.com/Alice'><query xmlns='http://jabber.org/protocol/disco#info'>"
         "<feature var='x'/></query></iq>");
  out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0],
                "<iq type='result' id='orig' from='p1@rooms.example.com/Bob' "
                "to='alice@example.com/web'><query "
                "xmlns='http://jabber.org/protocol/disco#info'><feature var='x'/>"
                "</query></iq>");
  // Answered once only.
  b.send("<iq type='result' id='" + fid +
         "' from='bob@example.com/pc' "
         "to='p1@rooms.example.com/Alice'/>");
  EXPECT_TRUE(b.take().empty());
}

TEST(OccupantIq, VcardGoesToTheBareJidAndBouncesComeBack) {
  RoomBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.iq(A, "p1@rooms.example.com/Bob", "get", "<vCard xmlns='vcard-temp'/>", "v1");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("to"), "bob@example.com");
  const std::string fid(out[0].attr("id"));
  b.send("<iq type='error' id='" + fid +
         "' from='bob@example.com' "
         "to='p1@rooms.example.com/Alice'><error type='cancel'><item-not-found "
         "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
  out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0],
                "<iq type='error' id='v1' from='p1@rooms.example.com/Bob' "
                "to='alice@example.com/web'><error type='cancel'><item-not-found "
                "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
  EXPECT_EQ(b.service->occupants(), 2u);  // an IQ error does not make a ghost
}

TEST(OccupantIq, TimeoutAnswersTheRequester) {
  RoomBench b;
  b.forward_timeout = std::chrono::milliseconds(50);
  b.make_service();
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.iq(A, "p1@rooms.example.com/Bob", "get", DISCO, "t1");
  EXPECT_EQ(b.take().size(), 1u);  // the forwarded IQ
  b.run_for(std::chrono::milliseconds(150));
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("id"), "t1");
  EXPECT_EQ(out[0].attr("from"), "p1@rooms.example.com/Bob");
  EXPECT_EQ(error_condition(out[0]), "remote-server-timeout");
}

TEST(OccupantIq, PingToAnotherOccupantIsForwarded) {
  RoomBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.iq(A, "p1@rooms.example.com/Bob", "get", "<ping xmlns='urn:xmpp:ping'/>", "p");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("to"), B);
  EXPECT_EQ(out[0].attr("type"), "get");
}

}  // namespace
}  // namespace salon::muc::test
