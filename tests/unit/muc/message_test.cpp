// SPDX-License-Identifier: GPL-3.0-or-later
// Groupchat (XEP-0045 §7.4, XEP-0359, XEP-0421), subject changes (§8.1), private messages
// (§7.5), limits, and mediated invitations (§7.8.2).
#include "harness.hpp"

namespace salon::muc::test {
namespace {

constexpr const char* A = "alice@example.com/web";
constexpr const char* A2 = "alice@example.com/phone";
constexpr const char* B = "bob@example.com/pc";
constexpr const char* S = "sam@example.com/desk";

// Removes the room's <stanza-id/> (random) after checking it, so the rest compares exactly.
std::string strip_stanza_id(Element& m) {
  const Element* sid = m.child("stanza-id", "urn:xmpp:sid:0");
  if (!sid) return {};
  EXPECT_EQ(sid->attr("by"), "p1@rooms.example.com");
  std::string id(sid->attr("id"));
  m.remove_children("stanza-id", "urn:xmpp:sid:0");
  return id;
}

TEST(Groupchat, ReflectedToEveryoneIncludingSenderWithIds) {
  RoomBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.send(
      "<message type='groupchat' id='c1' from='alice@example.com/web' "
      "to='p1@rooms.example.com'><body>Hello</body>"
      "<origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 2u);
  std::string ids[2];
  for (int i = 0; i < 2; ++i)
    ids[i] = strip_stanza_id(out[i]);
  EXPECT_EQ(ids[0], ids[1]);
  EXPECT_EQ(ids[0].size(), 36u);
  EXPECT_EQ(ids[0][14], '7');  // UUIDv7: time-ordered (server/core/uuid.hpp)
  const std::string rest =
      "' id='c1' from='p1@rooms.example.com/Alice'><body>Hello</body>"
      "<origin-id xmlns='urn:xmpp:sid:0' id='o1'/>"
      "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='" +
      b.oid("alice@example.com") + "'/></message>";
  // Occupants in nick order: Alice, Bob.
  EXPECT_STANZA(out[0], "<message type='groupchat' to='" + std::string(A) + rest);
  EXPECT_STANZA(out[1], "<message type='groupchat' to='" + std::string(B) + rest);
}

TEST(Groupchat, SpoofedRoomStanzaIdAndOccupantIdAreReplaced) {
  RoomBench b;
  b.joined(A, "Alice");
  b.groupchat(A, "x", "c2",
              "<stanza-id xmlns='urn:xmpp:sid:0' id='fake' by='p1@rooms.example.com'/>"
              "<stanza-id xmlns='urn:xmpp:sid:0' id='keep' by='alice@example.com'/>"
              "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='fake1'/>"
              "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='fake2'/>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  auto sids = out[0].children_named("stanza-id", "urn:xmpp:sid:0");
  ASSERT_EQ(sids.size(), 2u);
  EXPECT_EQ(sids[0]->attr("id"), "keep");
  EXPECT_NE(sids[1]->attr("id"), "fake");
  EXPECT_EQ(sids[1]->attr("by"), "p1@rooms.example.com");
  auto oids = out[0].children_named("occupant-id", "urn:xmpp:occupant-id:0");
  ASSERT_EQ(oids.size(), 1u);
  EXPECT_EQ(oids[0]->attr("id"), b.oid("alice@example.com"));
}

TEST(Groupchat, PayloadsPassThroughUntouched) {
  RoomBench b;
  b.joined(A, "Alice");
  const std::string extras =
      "<active xmlns='http://jabber.org/protocol/chatstates'/>"
      "<replace xmlns='urn:xmpp:message-correct:0' id='old'/>"
      "<reply xmlns='urn:xmpp:reply:0' to='p1@rooms.example.com/Bob' id='x'/>"
      "<reactions xmlns='urn:xmpp:reactions:0' id='y'><reaction>\xF0\x9F\x91\x8D</reaction>"
      "</reactions><displayed xmlns='urn:xmpp:chat-markers:0' id='z'/>";
  b.groupchat(A, "fixed", "c3", extras);
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  strip_stanza_id(out[0]);
  EXPECT_STANZA(out[0],
                "<message type='groupchat' id='c3' from='p1@rooms.example.com/Alice' "
                "to='alice@example.com/web'><body>fixed</body>" +
                    extras + "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='" +
                    b.oid("alice@example.com") + "'/></message>");
}

TEST(Groupchat, ChatStateWithoutBodyIsReflected) {
  RoomBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.send(
      "<message type='groupchat' from='alice@example.com/web' to='p1@rooms.example.com'>"
      "<composing xmlns='http://jabber.org/protocol/chatstates'/></message>");
  EXPECT_EQ(b.take_to(B).size(), 1u);
}

TEST(Groupchat, FromNonOccupantIsNotAcceptable) {
  RoomBench b;
  b.joined(B, "Bob");
  b.groupchat(A, "sneaky", "c4");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0],
                "<message type='error' id='c4' from='p1@rooms.example.com' "
                "to='alice@example.com/web'><body>sneaky</body><error type='cancel'>"
                "<not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
                "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>you are not in the room"
                "</text></error></message>");
}

TEST(Groupchat, VisitorIsForbidden) {
  RoomBench b;
  b.joined(S, "Sam");
  b.joined(A, "Alice");
  b.iq(S, RoomBench::R, "set",
       "<query xmlns='http://jabber.org/protocol/muc#admin'><item nick='Alice' "
       "role='visitor'/></query>");
  b.take();
  b.groupchat(A, "hi", "c5");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(error_condition(out[0]), "forbidden");
}

TEST(Limits, OversizedStanzaIsPolicyViolation) {
  auto c = Bench::default_config();
  c.muc.max_stanza_bytes = 300;
  RoomBench b(c);
  b.joined(A, "Alice");
  b.groupchat(A, std::string(400, 'x'));
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(error_condition(out[0]), "policy-violation");
  EXPECT_EQ(out[0].child("error")->attr("type"), "modify");
}

TEST(Limits, LongBodyIsPolicyViolationCountingCharacters) {
  auto c = Bench::default_config();
  c.muc.max_body_chars = 3;
  RoomBench b(c);
  b.joined(A, "Alice");
  b.groupchat(A, "\xC3\xA9\xC3\xA9\xC3\xA9");  // 3 characters, 6 bytes
  EXPECT_EQ(b.take()[0].attr("type"), "groupchat");
  b.groupchat(A, "abcd");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(error_condition(out[0]), "policy-violation");
}

TEST(Limits, RateLimitAnswersPolicyViolationWait) {
  auto c = Bench::default_config();
  c.muc.messages_per_second = 0.001;
  c.muc.message_burst = 3;
  RoomBench b(c);
  b.joined(A, "Alice");
  for (int i = 0; i < 5; ++i)
    b.groupchat(A, "m" + std::to_string(i), "r" + std::to_string(i));
  auto out = b.take();
  ASSERT_EQ(out.size(), 5u);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(out[i].attr("type"), "groupchat") << i;
  for (int i = 3; i < 5; ++i) {
    EXPECT_EQ(out[i].attr("type"), "error");
    EXPECT_EQ(out[i].attr("id"), "r" + std::to_string(i));
    EXPECT_EQ(error_condition(out[i]), "policy-violation");
    EXPECT_EQ(out[i].child("error")->attr("type"), "wait");
  }
}

TEST(Subject, MemberMayChangeItWhenAllowedAndItIsPersisted) {
  RoomBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.send(
      "<message type='groupchat' id='s1' from='alice@example.com/web' "
      "to='p1@rooms.example.com'><subject>Tiles</subject></message>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 2u);
  for (auto& m : out) {
    EXPECT_EQ(m.attr("from"), "p1@rooms.example.com/Alice");
    EXPECT_EQ(m.child_text("subject"), "Tiles");
    EXPECT_FALSE(m.child("stanza-id"));
  }
  EXPECT_EQ(b.store.room("p1")->subject, "Tiles");
  EXPECT_EQ(b.store.room("p1")->subject_nick, "Alice");
  // Newcomers get it.
  b.join("carol@example.com/x", "Carol");
  auto carol = b.take_to("carol@example.com/x");
  ASSERT_FALSE(carol.empty());
  EXPECT_STANZA(carol.back(),
                "<message type='groupchat' from='p1@rooms.example.com/Alice' "
                "to='carol@example.com/x'><subject>Tiles</subject></message>");
}

TEST(Subject, EmptySubjectRemovesIt) {
  RoomBench b;
  b.joined(S, "Sam");
  b.send(
      "<message type='groupchat' from='sam@example.com/desk' to='p1@rooms.example.com'>"
      "<subject>x</subject></message>");
  b.send(
      "<message type='groupchat' from='sam@example.com/desk' to='p1@rooms.example.com'>"
      "<subject/></message>");
  b.take();
  EXPECT_EQ(b.store.room("p1")->subject, "");
}

TEST(Subject, ForbiddenForMembersWhenTheRoomSaysSo) {
  RoomBench b;
  b.store.add_room("p1", "Kitchen").settings.members_can_change_subject = false;
  b.joined(S, "Sam");
  b.joined(A, "Alice");
  b.send(
      "<message type='groupchat' id='s2' from='alice@example.com/web' "
      "to='p1@rooms.example.com'><subject>No</subject></message>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(error_condition(out[0]), "forbidden");
  EXPECT_EQ(out[0].attr("to"), A);
  // A moderator still may.
  b.send(
      "<message type='groupchat' id='s3' from='sam@example.com/desk' "
      "to='p1@rooms.example.com'><subject>Yes</subject></message>");
  EXPECT_EQ(b.take().size(), 2u);
}

TEST(Subject, ForbiddenWhenTheServiceConfigSaysSo) {
  auto c = Bench::default_config();
  c.muc.members_can_change_subject = false;
  RoomBench b(c);
  b.joined(A, "Alice");
  b.send(
      "<message type='groupchat' from='alice@example.com/web' to='p1@rooms.example.com'>"
      "<subject>No</subject></message>");
  EXPECT_EQ(error_condition(b.take()[0]), "forbidden");
}

TEST(PrivateMessage, DeliveredToEveryResourceOfTheTarget) {
  RoomBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.joined(A2, "Alice");
  b.send(
      "<message type='chat' id='pm1' from='bob@example.com/pc' "
      "to='p1@rooms.example.com/Alice'><body>psst</body></message>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 2u);
  const std::string tail =
      "' from='p1@rooms.example.com/Bob'><body>psst</body>"
      "<x xmlns='http://jabber.org/protocol/muc#user'/>"
      "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='" +
      b.oid("bob@example.com") + "'/></message>";
  EXPECT_STANZA(out[0], "<message type='chat' id='pm1' to='" + std::string(A) + tail);
  EXPECT_STANZA(out[1], "<message type='chat' id='pm1' to='" + std::string(A2) + tail);
}

TEST(PrivateMessage, Errors) {
  RoomBench b;
  b.joined(B, "Bob");
  b.send(
      "<message type='chat' id='p1' from='bob@example.com/pc' "
      "to='p1@rooms.example.com/Nobody'><body>x</body></message>");
  EXPECT_EQ(error_condition(b.take()[0]), "item-not-found");
  b.send(
      "<message type='groupchat' id='p2' from='bob@example.com/pc' "
      "to='p1@rooms.example.com/Bob'><body>x</body></message>");
  EXPECT_EQ(error_condition(b.take()[0]), "bad-request");
  b.send(
      "<message type='chat' id='p3' from='alice@example.com/web' "
      "to='p1@rooms.example.com/Bob'><body>x</body></message>");
  EXPECT_EQ(error_condition(b.take()[0]), "not-acceptable");
}

TEST(PrivateMessage, DisabledInRoomIsNotAllowed) {
  RoomBench b;
  b.store.add_room("p1", "Kitchen").settings.allow_private_messages = false;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.send(
      "<message type='chat' id='p4' from='bob@example.com/pc' "
      "to='p1@rooms.example.com/Alice'><body>x</body></message>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(error_condition(out[0]), "not-allowed");
}

TEST(Invite, MediatedInviteIsSentFromTheRoom) {
  RoomBench b;
  b.joined(A, "Alice");
  b.send(
      "<message id='i1' from='alice@example.com/web' to='p1@rooms.example.com'>"
      "<x xmlns='http://jabber.org/protocol/muc#user'><invite to='bob@example.com'>"
      "<reason>join us</reason></invite></x></message>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0],
                "<message id='i1' from='p1@rooms.example.com' to='bob@example.com'>"
                "<x xmlns='http://jabber.org/protocol/muc#user'>"
                "<invite from='alice@example.com'><reason>join us</reason></invite>"
                "</x></message>");
  // Invitations never grant membership.
  EXPECT_EQ(b.store.room("p1")->affiliations.size(), 6u);
}

TEST(Invite, MembersCannotInviteOutsiders) {
  RoomBench b;
  b.joined(A, "Alice");
  b.send(
      "<message id='i2' from='alice@example.com/web' to='p1@rooms.example.com'>"
      "<x xmlns='http://jabber.org/protocol/muc#user'><invite to='x@example.com'/></x>"
      "</message>");
  EXPECT_EQ(error_condition(b.take()[0]), "forbidden");
}

TEST(RoomMessage, OtherMessagesToTheRoomAreServiceUnavailable) {
  RoomBench b;
  b.joined(A, "Alice");
  b.send(
      "<message type='chat' id='o' from='alice@example.com/web' to='p1@rooms.example.com'>"
      "<body>x</body></message>");
  EXPECT_EQ(error_condition(b.take()[0]), "service-unavailable");
}

}  // namespace
}  // namespace salon::muc::test
