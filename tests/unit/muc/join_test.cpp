// SPDX-License-Identifier: GPL-3.0-or-later
// Entering and leaving (XEP-0045 §7.2, §7.14), multi-session nicks, nick changes (§7.6),
// presence updates and ghost removal.
#include "harness.hpp"

namespace salon::muc::test {
namespace {

constexpr const char* A = "alice@example.com/web";
constexpr const char* A2 = "alice@example.com/phone";
constexpr const char* B = "bob@example.com/pc";
constexpr const char* S = "sam@example.com/desk";

std::string subject(const std::string& to, const std::string& text = {},
                    const std::string& from = "p1@rooms.example.com") {
  return "<message type='groupchat' from='" + from + "' to='" + to + "'><subject>" + text +
         "</subject></message>";
}

TEST(Join, FirstOccupantGetsSelfPresenceThenSubject) {
  RoomBench b;
  b.join(A, "Alice");
  auto out = b.take();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_STANZA(out[0], presence_xml({.from = "p1@rooms.example.com/Alice",
                                      .to = A,
                                      .jid = A,
                                      .codes = {100, 110},
                                      .oid = b.oid("alice@example.com")}));
  EXPECT_STANZA(out[1], subject(A));
  EXPECT_EQ(b.service->occupants(), 1u);
  EXPECT_EQ(b.service->loaded_rooms(), 1u);
}

TEST(Join, OrderIsOthersThenSelfThenSubject) {
  RoomBench b;
  b.joined(B, "Bob");
  b.join(A, "Alice");
  auto out = b.take();
  ASSERT_EQ(out.size(), 4u);
  // 1. Bob's presence to Alice.
  EXPECT_STANZA(out[0], presence_xml({.from = "p1@rooms.example.com/Bob",
                                      .to = A,
                                      .jid = B,
                                      .oid = b.oid("bob@example.com")}));
  // 2. Alice's presence to Bob, then Alice's self-presence.
  EXPECT_STANZA(out[1], presence_xml({.from = "p1@rooms.example.com/Alice",
                                      .to = B,
                                      .jid = A,
                                      .oid = b.oid("alice@example.com")}));
  EXPECT_STANZA(out[2], presence_xml({.from = "p1@rooms.example.com/Alice",
                                      .to = A,
                                      .jid = A,
                                      .codes = {100, 110},
                                      .oid = b.oid("alice@example.com")}));
  // 3. No history provider; 4. the subject, last.
  EXPECT_STANZA(out[3], subject(A));
}

TEST(Join, RolesFollowAffiliations) {
  RoomBench b;
  b.join(S, "Sam");
  auto out = b.take();
  ASSERT_GE(out.size(), 1u);
  EXPECT_STANZA(out[0], presence_xml({.from = "p1@rooms.example.com/Sam",
                                      .to = S,
                                      .aff = "owner",
                                      .role = "moderator",
                                      .jid = S,
                                      .codes = {100, 110},
                                      .oid = b.oid("sam@example.com")}));
}

TEST(Join, ClientPayloadIsKeptAndMucElementsReplaced) {
  RoomBench b;
  b.send(
      "<presence from='alice@example.com/web' to='p1@rooms.example.com/Alice'>"
      "<show>away</show><status>lunch</status>"
      "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v'/>"
      "<x xmlns='http://jabber.org/protocol/muc'/>"
      "<x xmlns='http://jabber.org/protocol/muc#user'><item role='moderator'/></x>"
      "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='spoofed'/></presence>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_STANZA(out[0],
                presence_xml({.from = "p1@rooms.example.com/Alice",
                              .to = A,
                              .jid = A,
                              .codes = {100, 110},
                              .payload = "<show>away</show><status>lunch</status><c "
                                         "xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
                                         "node='n' ver='v'/>",
                              .oid = b.oid("alice@example.com")}));
}

TEST(Join, SubjectIsSentWhenSet) {
  RoomBench b;
  b.store.add_room("p1", "Kitchen").subject = "Tiles";
  b.store.add_room("p1", "Kitchen").subject_nick = "Sam";
  b.join(A, "Alice");
  auto out = b.take();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_STANZA(out[1], subject(A, "Tiles", "p1@rooms.example.com/Sam"));
}

TEST(Join, NotAMemberIsRegistrationRequired) {
  RoomBench b;
  b.send(
      "<presence id='j1' from='mallory@example.com/x' to='p1@rooms.example.com/M'>"
      "<x xmlns='http://jabber.org/protocol/muc'/></presence>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0],
                "<presence type='error' id='j1' from='p1@rooms.example.com/M' "
                "to='mallory@example.com/x'><x xmlns='http://jabber.org/protocol/muc'/>"
                "<error type='auth'><registration-required "
                "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
                "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>this room is for project "
                "members</text></error></presence>");
  EXPECT_EQ(b.service->occupants(), 0u);
}

TEST(Join, OutcastIsForbidden) {
  RoomBench b;
  b.join("eve@example.com/x", "Eve");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("type"), "error");
  EXPECT_EQ(error_condition(out[0]), "forbidden");
  EXPECT_EQ(out[0].child("error")->attr("type"), "auth");
}

TEST(Join, NickInUseByAnotherUserIsConflict) {
  RoomBench b;
  b.joined(B, "Bobby");
  b.join(A, "Bobby");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(error_condition(out[0]), "conflict");
  EXPECT_EQ(out[0].attr("to"), A);
}

TEST(Join, NickReservedByAnotherMemberIsConflict) {
  RoomBench b;
  b.join(A, "Bob");  // Bob is not here, but "Bob" is his reserved nick
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(error_condition(out[0]), "conflict");
}

TEST(Join, AnyFreeNickIsAllowed) {
  RoomBench b;
  b.join(A, "Al");
  auto out = b.take();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].attr("from"), "p1@rooms.example.com/Al");
}

TEST(Join, NickFailingResourceprepIsJidMalformed) {
  RoomBench b;
  // U+0007 (a control character) is prohibited by resourceprep.
  b.send(std::string("<presence from='alice@example.com/web' to='p1@rooms.example.com/a") + "\x07" +
         "b'><x xmlns='http://jabber.org/protocol/muc'/></presence>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(error_condition(out[0]), "jid-malformed");
}

TEST(Join, TooLongNickIsNotAcceptable) {
  auto c = Bench::default_config();
  c.muc.max_nick_chars = 5;
  RoomBench b(c);
  b.join(A, "Alexandra");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(error_condition(out[0]), "not-acceptable");
  b.join(A, "Ålex");  // 4 characters, 5 bytes
  EXPECT_EQ(b.take().size(), 2u);
}

TEST(Join, NickWithoutResourceIsJidMalformed) {
  RoomBench b;
  b.send(
      "<presence from='alice@example.com/web' to='p1@rooms.example.com'>"
      "<x xmlns='http://jabber.org/protocol/muc'/></presence>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(error_condition(out[0]), "jid-malformed");
}

TEST(Join, FullRoomIsServiceUnavailableButAdminsMayEnter) {
  auto c = Bench::default_config();
  c.muc.max_occupants = 1;
  RoomBench b(c);
  b.joined(B, "Bob");
  b.join(A, "Alice");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(error_condition(out[0]), "service-unavailable");
  b.join("ada@example.com/x", "Ada");
  EXPECT_EQ(b.take_to("ada@example.com/x").size(), 3u);  // Bob's presence, self, subject
  b.join(S, "Sam");
  EXPECT_EQ(b.take_to(S).size(), 4u);
  EXPECT_EQ(b.service->occupants(), 3u);
}

TEST(Join, ServiceChangedNickGets210) {
  RoomBench b;
  // Fullwidth letters are mapped by resourceprep's NFKC: the nick the room uses differs.
  b.send(
      "<presence from='alice@example.com/web' to='p1@rooms.example.com/\xEF\xBC\xA1l'>"
      "<x xmlns='http://jabber.org/protocol/muc'/></presence>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_STANZA(out[0], presence_xml({.from = "p1@rooms.example.com/Al",
                                      .to = A,
                                      .jid = A,
                                      .codes = {100, 110, 210},
                                      .oid = b.oid("alice@example.com")}));
}

TEST(Join, LoggedRoomAdds170) {
  RoomBench b;
  b.service->host().declare_room_logging();  // what the archive plugin does at start
  b.join(A, "Alice");
  auto out = b.take();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_STANZA(out[0], presence_xml({.from = "p1@rooms.example.com/Alice",
                                      .to = A,
                                      .jid = A,
                                      .codes = {100, 110, 170},
                                      .oid = b.oid("alice@example.com")}));
}

TEST(Join, OccupantIdIsStableAcrossRejoinAndNickChange) {
  RoomBench b;
  b.join(A, "Alice");
  const std::string first(b.take()[0].child("occupant-id")->attr("id"));
  b.send(
      "<presence type='unavailable' from='alice@example.com/web' "
      "to='p1@rooms.example.com/Alice'/>");
  b.join(A, "Al");
  auto out = b.take();
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0].child("occupant-id")->attr("id"), first);
  EXPECT_LE(first.size(), 128u);
  EXPECT_EQ(first.find("alice"), std::string::npos);
  EXPECT_NE(b.oid("bob@example.com"), first);
}

TEST(MultiSession, SecondResourceJoinsTheSameOccupantQuietly) {
  RoomBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.join(A2, "Alice");
  // Bob sees nothing: the occupant did not change.
  EXPECT_TRUE(b.take_to(B).empty());
  EXPECT_TRUE(b.take_to(A).empty());
  auto out = b.take_to(A2);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].attr("from"), "p1@rooms.example.com/Bob");
  EXPECT_STANZA(out[1], presence_xml({.from = "p1@rooms.example.com/Alice",
                                      .to = A2,
                                      .jid = A2,
                                      .codes = {100, 110},
                                      .oid = b.oid("alice@example.com")}));
  EXPECT_STANZA(out[2], subject(A2));
  EXPECT_EQ(b.service->occupants(), 2u);
}

TEST(MultiSession, ChangedPresenceOfSecondResourceIsBroadcast) {
  RoomBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.join(A2, "Alice", "");
  b.take();
  b.send(
      "<presence from='alice@example.com/phone' to='p1@rooms.example.com/Alice'>"
      "<show>xa</show></presence>");
  auto bob = b.take_to(B);
  ASSERT_EQ(bob.size(), 1u);
  EXPECT_STANZA(bob[0], presence_xml({.from = "p1@rooms.example.com/Alice",
                                      .to = B,
                                      .jid = A2,
                                      .payload = "<show>xa</show>",
                                      .oid = b.oid("alice@example.com")}));
  // Both of Alice's resources get the self-presence.
  EXPECT_EQ(b.take_to(A).size(), 1u);
  EXPECT_EQ(b.take_to(A2).size(), 1u);
}

TEST(MultiSession, EveryResourceGetsTrafficAndOneLeavingKeepsTheOccupant) {
  RoomBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.joined(A2, "Alice");
  b.groupchat(B, "hi");
  EXPECT_EQ(b.take_to(A).size(), 1u);
  EXPECT_EQ(b.take_to(A2).size(), 1u);
  b.take();
  b.send(
      "<presence type='unavailable' from='alice@example.com/phone' "
      "to='p1@rooms.example.com/Alice'/>");
  auto phone = b.take_to(A2);
  ASSERT_EQ(phone.size(), 1u);
  EXPECT_STANZA(phone[0], presence_xml({.from = "p1@rooms.example.com/Alice",
                                        .to = A2,
                                        .role = "none",
                                        .jid = A2,
                                        .codes = {110},
                                        .type = "unavailable",
                                        .oid = b.oid("alice@example.com")}));
  // The occupant is still there: others are not told (its presence did not change).
  EXPECT_TRUE(b.take_to(B).empty());
  EXPECT_EQ(b.service->occupants(), 2u);
  b.groupchat(B, "still there?", "m2");
  EXPECT_EQ(b.take_to(A).size(), 1u);
  EXPECT_TRUE(b.take_to(A2).empty());
}

TEST(Join, RejoinFromAJoinedResourceGetsTheWholeSequenceAgain) {
  RoomBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.join(A, "Alice");
  auto out = b.take_to(A);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].attr("from"), "p1@rooms.example.com/Bob");
  EXPECT_STANZA(out[1], presence_xml({.from = "p1@rooms.example.com/Alice",
                                      .to = A,
                                      .jid = A,
                                      .codes = {100, 110},
                                      .oid = b.oid("alice@example.com")}));
  EXPECT_STANZA(out[2], subject(A));
  EXPECT_TRUE(b.take().empty());  // unchanged presence: Bob is not bothered
  EXPECT_EQ(b.service->occupants(), 2u);
}

TEST(Join, BadNickErrorComesFromTheRoom) {
  RoomBench b;
  b.send("<presence id='bn' from='alice@example.com/web' to='p1@rooms.example.com/a\x07'/>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("from"), "p1@rooms.example.com");
}

TEST(Leave, SelfGets110AndOthersUnavailable) {
  RoomBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.send(
      "<presence type='unavailable' from='alice@example.com/web' "
      "to='p1@rooms.example.com/Alice'><status>bye</status></presence>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_STANZA(out[0], presence_xml({.from = "p1@rooms.example.com/Alice",
                                      .to = B,
                                      .role = "none",
                                      .jid = A,
                                      .type = "unavailable",
                                      .payload = "<status>bye</status>",
                                      .oid = b.oid("alice@example.com")}));
  EXPECT_STANZA(out[1], presence_xml({.from = "p1@rooms.example.com/Alice",
                                      .to = A,
                                      .role = "none",
                                      .jid = A,
                                      .codes = {110},
                                      .type = "unavailable",
                                      .payload = "<status>bye</status>",
                                      .oid = b.oid("alice@example.com")}));
  EXPECT_EQ(b.service->occupants(), 1u);
}

TEST(Leave, UnavailableFromNonOccupantIsIgnored) {
  RoomBench b;
  b.joined(B, "Bob");
  b.send(
      "<presence type='unavailable' from='alice@example.com/web' "
      "to='p1@rooms.example.com/Alice'/>");
  EXPECT_TRUE(b.take().empty());
}

TEST(PresenceUpdate, IsEchoedToEveryone) {
  RoomBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.send(
      "<presence from='alice@example.com/web' to='p1@rooms.example.com/Alice'>"
      "<show>dnd</show><x xmlns='vcard-temp:x:update'><photo>abc</photo></x>"
      "<idle xmlns='urn:xmpp:idle:1' since='2026-01-01T00:00:00Z'/></presence>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 2u);
  const std::string payload =
      "<show>dnd</show><x xmlns='vcard-temp:x:update'><photo>abc</photo></x>"
      "<idle xmlns='urn:xmpp:idle:1' since='2026-01-01T00:00:00Z'/>";
  EXPECT_STANZA(out[0], presence_xml({.from = "p1@rooms.example.com/Alice",
                                      .to = B,
                                      .jid = A,
                                      .payload = payload,
                                      .oid = b.oid("alice@example.com")}));
  EXPECT_STANZA(out[1], presence_xml({.from = "p1@rooms.example.com/Alice",
                                      .to = A,
                                      .jid = A,
                                      .codes = {110},
                                      .payload = payload,
                                      .oid = b.oid("alice@example.com")}));
}

TEST(NickChange, Sends303ThenNewPresence) {
  RoomBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.send("<presence from='alice@example.com/web' to='p1@rooms.example.com/Ali'/>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 4u);
  const auto oid = b.oid("alice@example.com");
  EXPECT_STANZA(out[0], presence_xml({.from = "p1@rooms.example.com/Alice",
                                      .to = B,
                                      .jid = A,
                                      .codes = {303},
                                      .type = "unavailable",
                                      .item_nick = "Ali",
                                      .oid = oid}));
  EXPECT_STANZA(out[1], presence_xml({.from = "p1@rooms.example.com/Alice",
                                      .to = A,
                                      .jid = A,
                                      .codes = {110, 303},
                                      .type = "unavailable",
                                      .item_nick = "Ali",
                                      .oid = oid}));
  EXPECT_STANZA(out[2],
                presence_xml({.from = "p1@rooms.example.com/Ali", .to = B, .jid = A, .oid = oid}));
  EXPECT_STANZA(
      out[3],
      presence_xml(
          {.from = "p1@rooms.example.com/Ali", .to = A, .jid = A, .codes = {110}, .oid = oid}));
  b.groupchat(B, "hello Ali");
  auto msg = b.take_to(A);
  ASSERT_EQ(msg.size(), 1u);
}

TEST(NickChange, ToATakenOrReservedNickIsConflict) {
  RoomBench b;
  b.joined(B, "Bobby");
  b.joined(A, "Alice");
  b.send("<presence id='n1' from='alice@example.com/web' to='p1@rooms.example.com/Bobby'/>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0],
                "<presence type='error' id='n1' from='p1@rooms.example.com/Bobby' "
                "to='alice@example.com/web'><error type='cancel'><conflict "
                "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
                "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>nickname in use</text>"
                "</error></presence>");
  b.send("<presence id='n2' from='alice@example.com/web' to='p1@rooms.example.com/Sam'/>");
  out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(error_condition(out[0]), "conflict");
}

TEST(Ghost, BouncedMessageRemovesTheResource) {
  RoomBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.send(
      "<message type='error' from='alice@example.com/web' to='p1@rooms.example.com/Bob'>"
      "<error type='cancel'><recipient-unavailable "
      "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);  // only Bob is told; the ghost is not written to
  EXPECT_STANZA(out[0], presence_xml({.from = "p1@rooms.example.com/Alice",
                                      .to = B,
                                      .role = "none",
                                      .jid = A,
                                      .codes = {333},
                                      .type = "unavailable",
                                      .oid = b.oid("alice@example.com")}));
  EXPECT_EQ(b.service->occupants(), 1u);
}

TEST(Ghost, BouncedPresenceToTheRoomRemovesTheResource) {
  RoomBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.send(
      "<presence type='error' from='alice@example.com/web' to='p1@rooms.example.com/Bob'>"
      "<error type='cancel'><remote-server-not-found "
      "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>");
  EXPECT_EQ(b.service->occupants(), 1u);
  b.send(
      "<message type='error' from='bob@example.com/pc' to='p1@rooms.example.com'>"
      "<error type='cancel'><service-unavailable "
      "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
  EXPECT_EQ(b.service->occupants(), 0u);
}

TEST(Ghost, OtherErrorsDoNotRemove) {
  RoomBench b;
  b.joined(A, "Alice");
  b.send(
      "<message type='error' from='alice@example.com/web' to='p1@rooms.example.com'>"
      "<error type='modify'><not-acceptable "
      "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
  EXPECT_EQ(b.service->occupants(), 1u);
  EXPECT_TRUE(b.take().empty());
}

TEST(Ghost, OnlyTheBouncedResourceOfAMultiSessionLeaves) {
  RoomBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.joined(A2, "Alice");
  b.send(
      "<message type='error' from='alice@example.com/phone' to='p1@rooms.example.com/Bob'>"
      "<error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
      "</message>");
  EXPECT_TRUE(b.take().empty());
  EXPECT_EQ(b.service->occupants(), 2u);
  b.groupchat(B, "x");
  EXPECT_EQ(b.take_to(A).size(), 1u);
  EXPECT_TRUE(b.take_to(A2).empty());
}

TEST(Unload, EmptyIdleRoomIsUnloaded) {
  auto c = Bench::default_config();
  c.muc.idle_unload = std::chrono::seconds(0);
  RoomBench b(c);
  b.joined(A, "Alice");
  EXPECT_EQ(b.service->loaded_rooms(), 1u);
  b.send(
      "<presence type='unavailable' from='alice@example.com/web' "
      "to='p1@rooms.example.com/Alice'/>");
  b.run_for(std::chrono::milliseconds(300));  // write-behind of the (empty) occupant set
  EXPECT_EQ(b.service->loaded_rooms(), 0u);
  EXPECT_TRUE(b.store.occupants_of("p1").empty());
}

TEST(Unload, IdleRoomsWaitTheirTimeAndAReloadShortensIt) {
  auto c = Bench::default_config();
  c.muc.idle_unload = std::chrono::seconds(3600);
  RoomBench b(c);
  b.room("p2", "Hall", {{"alice@example.com", Affiliation::member, "Alice"}});
  b.joined(A, "Alice");
  b.send(
      "<presence type='unavailable' from='alice@example.com/web' "
      "to='p1@rooms.example.com/Alice'/>");
  b.iq(A, "p2@rooms.example.com", "get", "<query xmlns='http://jabber.org/protocol/disco#info'/>");
  b.run_for(std::chrono::milliseconds(300));
  EXPECT_EQ(b.service->loaded_rooms(), 2u);  // idle, but not for an hour yet
  c.muc.idle_unload = std::chrono::seconds(1);
  b.service->reload(c);
  b.run_for(std::chrono::milliseconds(1300));
  EXPECT_EQ(b.service->loaded_rooms(), 0u);
}

}  // namespace
}  // namespace salon::muc::test
