// SPDX-License-Identifier: GPL-3.0-or-later
// Hardening of the MUC core (issue 12 §2): mediated declines (XEP-0045 §7.8.2) only from
// members, to members, with only the XEP's fields and the message rate; the nick oracle in
// muc#admin; client <delay/> in groupchat; presence size and rate; forwarded IQs bounded;
// unknown room names remembered briefly.
#include "harness.hpp"

namespace salon::muc::test {
namespace {

constexpr const char* A = "alice@example.com/web";
constexpr const char* B = "bob@example.com/pc";
constexpr const char* S = "sam@example.com/desk";
constexpr const char* R = "p1@rooms.example.com";
const std::string MUC_USER = "http://jabber.org/protocol/muc#user";
const std::string DISCO = "<query xmlns='http://jabber.org/protocol/disco#info'/>";

std::uint64_t refused(Bench& b, const std::string& limit) {
  return b.metrics
      .counter("salon_muc_stanzas_refused_total", "Stanzas the MUC refused for a [muc] limit",
               {{"limit", limit}})
      .value();
}

// The <error type=''/> of an error stanza ("" when it has none).
std::string error_type(const Element& e) {
  const Element* err = e.child("error");
  return err ? std::string(err->attr("type")) : std::string();
}

std::string decline(const std::string& from, const std::string& to, const std::string& id,
                    const std::string& inner = "<reason>sorry</reason>") {
  return "<message id='" + id + "' from='" + from + "' to='" + R + "'><x xmlns='" + MUC_USER +
         "'><decline to='" + to + "'>" + inner + "</decline></x></message>";
}

// ---- mediated decline (§7.8.2)

TEST(Decline, FromAnOutsiderIsForbiddenAndNothingIsRelayed) {
  RoomBench b;
  b.send(decline("mallory@evil.example/x", "victim@example.org", "d1"));
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("to"), "mallory@evil.example/x");
  EXPECT_EQ(out[0].attr("type"), "error");
  EXPECT_EQ(error_condition(out[0]), "forbidden");
  // An outcast is no member either.
  b.send(decline("eve@example.com/x", "alice@example.com", "d2"));
  out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(error_condition(out[0]), "forbidden");
}

TEST(Decline, FromAMemberCarriesOnlyWhatTheXepDefines) {
  RoomBench b;
  // Bob is a member who is not in the room (the invitee declines instead of joining).
  b.send(
      "<message id='d3' type='normal' from='bob@example.com/pc' to='p1@rooms.example.com'>"
      "<body>spam body</body><html xmlns='http://jabber.org/protocol/xhtml-im'/>"
      "<x xmlns='http://jabber.org/protocol/muc#user'>"
      "<decline to='alice@example.com' extra='1'><reason lang='x'>sorry<b>bold</b></reason>"
      "<junk/></decline><status code='1'/></x><delay xmlns='urn:xmpp:delay' stamp='x'/>"
      "</message>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0],
                "<message id='d3' from='p1@rooms.example.com' to='alice@example.com'>"
                "<x xmlns='http://jabber.org/protocol/muc#user'>"
                "<decline from='bob@example.com'><reason>sorry</reason></decline>"
                "</x></message>");
}

TEST(Decline, ToSomeoneWhoIsNoMemberIsNotAcceptable) {
  RoomBench b;
  b.send(decline(B, "victim@example.org", "d4"));
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("to"), B);
  EXPECT_EQ(error_condition(out[0]), "not-acceptable");
}

TEST(Decline, RateLimitedLikeMessages) {
  auto c = Bench::default_config();
  c.muc.messages_per_second = 0.001;
  c.muc.message_burst = 2;
  RoomBench b(c);
  for (int i = 0; i < 3; ++i)
    b.send(decline(B, "alice@example.com", "r" + std::to_string(i)));
  auto out = b.take();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].attr("to"), "alice@example.com");
  EXPECT_EQ(out[1].attr("to"), "alice@example.com");
  EXPECT_EQ(out[2].attr("to"), B);
  EXPECT_EQ(error_condition(out[2]), "policy-violation");
  EXPECT_EQ(error_type(out[2]), "wait");
  EXPECT_EQ(refused(b, "message_rate"), 1u);
  // An occupant's declines share its message bucket.
  b.joined(A, "Alice");
  b.groupchat(A, "one", "g1");
  b.groupchat(A, "two", "g2");
  b.take();
  b.send(decline(A, "sam@example.com", "r3"));
  out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(error_condition(out[0]), "policy-violation");
}

TEST(Decline, LongReasonIsPolicyViolation) {
  auto c = Bench::default_config();
  c.muc.max_body_chars = 5;
  RoomBench b(c);
  b.send(decline(B, "alice@example.com", "d5", "<reason>too long</reason>"));
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("to"), B);
  EXPECT_EQ(error_condition(out[0]), "policy-violation");
}

TEST(Invite, RateLimitedAndReasonWithoutMarkup) {
  auto c = Bench::default_config();
  c.muc.messages_per_second = 0.001;
  c.muc.message_burst = 1;
  RoomBench b(c);
  b.joined(A, "Alice");
  auto invite = [&](const std::string& id) {
    b.send("<message id='" + id +
           "' from='alice@example.com/web' to='p1@rooms.example.com'>"
           "<x xmlns='http://jabber.org/protocol/muc#user'><invite to='bob@example.com'>"
           "<reason a='1'>come<i/></reason></invite></x></message>");
  };
  invite("i1");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_STANZA(out[0],
                "<message id='i1' from='p1@rooms.example.com' to='bob@example.com'>"
                "<x xmlns='http://jabber.org/protocol/muc#user'>"
                "<invite from='alice@example.com'><reason>come</reason></invite></x></message>");
  invite("i2");
  out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("to"), A);
  EXPECT_EQ(error_condition(out[0]), "policy-violation");
}

// ---- nick oracle

TEST(AdminOracle, OutsidersAndMembersGetForbiddenWhetherTheNickIsThereOrNot) {
  RoomBench b;
  b.joined(A, "Alice");
  const std::string set_by_nick = "<query xmlns='http://jabber.org/protocol/muc#admin'>";
  for (const char* who : {"mallory@evil.example/x", "eve@example.com/x", B}) {
    for (const char* nick : {"Alice", "Nobody"}) {
      b.iq(who, R, "set", set_by_nick + "<item affiliation='outcast' nick='" + nick + "'/></query>",
           "o1");
      auto out = b.take();
      ASSERT_EQ(out.size(), 1u) << who << " " << nick;
      EXPECT_EQ(error_condition(out[0]), "forbidden") << who << " " << nick;
    }
  }
  // An admin still learns that the nick is not there.
  b.iq(S, R, "set", set_by_nick + "<item affiliation='member' nick='Nobody'/></query>", "o2");
  EXPECT_EQ(error_condition(b.take()[0]), "item-not-found");
}

// ---- client <delay/> in groupchat

TEST(Groupchat, ClientDelayIsStrippedBeforeBroadcast) {
  RoomBench b;
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.groupchat(A, "backdated", "m1",
              "<delay xmlns='urn:xmpp:delay' stamp='2001-01-01T00:00:00Z'/>"
              "<x xmlns='jabber:x:delay' stamp='20010101T00:00:00'/>");
  auto out = b.take_to(B);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].child("body")->text(), "backdated");
  EXPECT_EQ(out[0].child("delay", "urn:xmpp:delay"), nullptr);
  EXPECT_EQ(out[0].child("x", "jabber:x:delay"), nullptr);
}

TEST(Subject, ClientDelayIsStripped) {
  RoomBench b;
  b.joined(A, "Alice");
  b.send(
      "<message type='groupchat' id='s1' from='alice@example.com/web' "
      "to='p1@rooms.example.com'><subject>Plans</subject>"
      "<delay xmlns='urn:xmpp:delay' stamp='2001-01-01T00:00:00Z'/></message>");
  auto out = b.take_to(A);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].child("delay", "urn:xmpp:delay"), nullptr);
}

// ---- presence

std::string status(std::size_t chars) {
  return "<status>" + std::string(chars, 's') + "</status>";
}

TEST(PresenceLimits, OversizedUpdateIsRefusedAndNotBroadcast) {
  auto c = Bench::default_config();
  c.muc.max_presence_bytes = 100;
  RoomBench b(c);
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.send("<presence from='alice@example.com/web' to='p1@rooms.example.com/Alice'>" + status(200) +
         "</presence>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("to"), A);
  EXPECT_EQ(error_condition(out[0]), "policy-violation");
  EXPECT_EQ(refused(b, "presence_bytes"), 1u);
  // Within the limit it passes.
  b.send("<presence from='alice@example.com/web' to='p1@rooms.example.com/Alice'>" + status(10) +
         "</presence>");
  EXPECT_EQ(b.take_to(B).size(), 1u);
}

TEST(PresenceLimits, OversizedJoinIsRefused) {
  auto c = Bench::default_config();
  c.muc.max_presence_bytes = 100;
  RoomBench b(c);
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.send(
      "<presence from='sam@example.com/desk' to='p1@rooms.example.com/Sam'>"
      "<x xmlns='http://jabber.org/protocol/muc'/>" +
      status(200) + "</presence>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("to"), S);
  EXPECT_EQ(error_condition(out[0]), "policy-violation");
  EXPECT_EQ(b.service->occupants(), 2u);
}

TEST(PresenceLimits, OversizedGoodbyeStillLeavesWithoutItsPayload) {
  auto c = Bench::default_config();
  c.muc.max_presence_bytes = 100;
  RoomBench b(c);
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.send(
      "<presence type='unavailable' from='alice@example.com/web' "
      "to='p1@rooms.example.com/Alice'>" +
      status(200) + "</presence>");
  auto out = b.take_to(B);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("type"), "unavailable");
  EXPECT_EQ(out[0].child("status"), nullptr);
  EXPECT_EQ(b.service->occupants(), 1u);
}

TEST(PresenceLimits, UpdatesNickChangesAndRejoinsAreRateLimitedAcrossLeaving) {
  auto c = Bench::default_config();
  c.muc.presences_per_second = 0.001;
  c.muc.presence_burst = 3;
  RoomBench b(c);
  b.joined(B, "Bob");
  b.joined(A, "Alice");  // token 1
  auto update = [&](const std::string& show) {
    b.send("<presence from='alice@example.com/web' to='p1@rooms.example.com/Alice'><show>" + show +
           "</show></presence>");
  };
  update("away");  // token 2
  update("xa");    // token 3
  b.take();
  update("dnd");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("to"), A);
  EXPECT_EQ(error_condition(out[0]), "policy-violation");
  EXPECT_EQ(error_type(out[0]), "wait");
  // A nick change too.
  b.send("<presence from='alice@example.com/web' to='p1@rooms.example.com/Alicia'/>");
  out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(error_condition(out[0]), "policy-violation");
  // Leaving always works; joining again does not refill the bucket.
  b.send(
      "<presence type='unavailable' from='alice@example.com/web' "
      "to='p1@rooms.example.com/Alice'/>");
  EXPECT_EQ(b.service->occupants(), 1u);
  b.take();
  b.join(A, "Alice");
  out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(error_condition(out[0]), "policy-violation");
  EXPECT_EQ(refused(b, "presence_rate"), 3u);
  // Others are not affected.
  b.send(
      "<presence from='bob@example.com/pc' to='p1@rooms.example.com/Bob'><show>away</show>"
      "</presence>");
  EXPECT_EQ(b.take_to(B).size(), 1u);
}

// ---- forwarded IQs

TEST(ForwardLimits, BoundedPerRequesterAndReleasedByTheAnswer) {
  auto c = Bench::default_config();
  c.muc.max_forwarded_iqs_per_occupant = 2;
  RoomBench b(c);
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.iq(A, "p1@rooms.example.com/Bob", "get", DISCO, "f1");
  b.iq(A, "p1@rooms.example.com/Bob", "get", DISCO, "f2");
  auto fwd = b.take_to(B);
  ASSERT_EQ(fwd.size(), 2u);
  b.iq(A, "p1@rooms.example.com/Bob", "get", DISCO, "f3");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("id"), "f3");
  EXPECT_EQ(out[0].attr("to"), A);
  EXPECT_EQ(error_condition(out[0]), "resource-constraint");
  EXPECT_EQ(error_type(out[0]), "wait");
  EXPECT_EQ(refused(b, "forwarded_iqs_occupant"), 1u);
  // Bob answers one: Alice may ask again.
  b.send("<iq type='result' id='" + std::string(fwd[0].attr("id")) +
         "' from='bob@example.com/pc' to='p1@rooms.example.com/Alice'/>");
  EXPECT_EQ(b.take_to(A).size(), 1u);
  b.iq(A, "p1@rooms.example.com/Bob", "get", DISCO, "f4");
  EXPECT_EQ(b.take_to(B).size(), 1u);
}

TEST(ForwardLimits, BoundedPerRoom) {
  auto c = Bench::default_config();
  c.muc.max_forwarded_iqs_per_room = 2;
  RoomBench b(c);
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.joined(S, "Sam");
  b.iq(A, "p1@rooms.example.com/Bob", "get", DISCO, "f1");
  b.iq(S, "p1@rooms.example.com/Bob", "get", DISCO, "f2");
  EXPECT_EQ(b.take_to(B).size(), 2u);
  b.iq(S, "p1@rooms.example.com/Alice", "get", DISCO, "f3");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("to"), S);
  EXPECT_EQ(error_condition(out[0]), "resource-constraint");
  EXPECT_EQ(refused(b, "forwarded_iqs_room"), 1u);
}

TEST(ForwardLimits, AnExpiredForwardIsAnsweredCountedAndReleased) {
  auto c = Bench::default_config();
  c.muc.max_forwarded_iqs_per_occupant = 1;
  RoomBench b(c);
  b.forward_timeout = std::chrono::milliseconds(50);
  b.make_service();
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.iq(A, "p1@rooms.example.com/Bob", "get", DISCO, "t1");
  EXPECT_EQ(b.take_to(B).size(), 1u);
  b.run_for(std::chrono::milliseconds(150));
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("id"), "t1");
  EXPECT_EQ(error_condition(out[0]), "remote-server-timeout");
  EXPECT_EQ(b.metrics
                .counter("salon_muc_forwarded_iqs_expired_total",
                         "IQs forwarded to an occupant that got no answer in time (the "
                         "requester got an error)")
                .value(),
            1u);
  b.iq(A, "p1@rooms.example.com/Bob", "get", DISCO, "t2");
  EXPECT_EQ(b.take_to(B).size(), 1u);
}

// ---- unknown rooms

TEST(MissingRooms, AnUnknownNameIsLookedUpOnceWhileRemembered) {
  Bench b;
  for (int i = 0; i < 5; ++i) {
    b.send(
        "<presence from='alice@example.com/web' to='nosuch@rooms.example.com/Alice'>"
        "<x xmlns='http://jabber.org/protocol/muc'/></presence>");
    auto out = b.take();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(error_condition(out[0]), "item-not-found");
  }
  EXPECT_EQ(b.store.load_room_calls(), 1u);
  EXPECT_EQ(b.metrics
                .counter("salon_muc_missing_room_cache_hits_total",
                         "Stanzas to unknown rooms answered without a database query")
                .value(),
            4u);
}

TEST(MissingRooms, ForgottenAfterTheTtl) {
  auto c = Bench::default_config();
  c.muc.missing_room_cache = std::chrono::milliseconds(30);
  Bench b(c);
  b.send(
      "<message type='groupchat' from='alice@example.com/web' to='nosuch@rooms.example.com'>"
      "<body>x</body></message>");
  b.run_for(std::chrono::milliseconds(60));
  b.send(
      "<message type='groupchat' from='alice@example.com/web' to='nosuch@rooms.example.com'>"
      "<body>x</body></message>");
  EXPECT_EQ(b.store.load_room_calls(), 2u);
}

TEST(MissingRooms, BoundedByCount) {
  auto c = Bench::default_config();
  c.muc.missing_room_cache_entries = 2;
  Bench b(c);
  for (const char* room : {"a", "b", "c", "a"})
    b.send(std::string("<message type='groupchat' from='alice@example.com/web' to='") + room +
           "@rooms.example.com'><body>x</body></message>");
  EXPECT_EQ(b.store.load_room_calls(), 4u);  // 'a' was evicted by 'c'
}

TEST(MissingRooms, ProvisioningTheRoomEndsItAtOnce) {
  RoomBench b;
  b.send(
      "<presence from='alice@example.com/web' to='p2@rooms.example.com/Alice'>"
      "<x xmlns='http://jabber.org/protocol/muc'/></presence>");
  EXPECT_EQ(error_condition(b.take()[0]), "item-not-found");
  b.store.add_room("p2", "Garden");
  AffiliationRecord a;
  a.jid = "alice@example.com";
  a.affiliation = Affiliation::member;
  b.store.put_affiliation("p2", a);
  b.service->project_changed(*b.store.room("p2"));
  b.send(
      "<presence from='alice@example.com/web' to='p2@rooms.example.com/Alice'>"
      "<x xmlns='http://jabber.org/protocol/muc'/></presence>");
  bool joined = false;
  for (const auto& e : b.take())
    if (e.name() == "message" && e.child("subject") && e.attr("from") == "p2@rooms.example.com")
      joined = true;
  EXPECT_TRUE(joined);
}

TEST(MissingRooms, AnAnswerOlderThanAProvisioningIsNotRemembered) {
  RoomBench b;
  // The look-up is under way (its completion is posted) when the room is provisioned.
  b.service->handle(
      xml("<presence from='alice@example.com/web' to='p2@rooms.example.com/Alice'>"
          "<x xmlns='http://jabber.org/protocol/muc'/></presence>"));
  RoomRecord rec;
  rec.local = "p2";
  b.service->project_changed(rec);  // not yet in the store: the load still says "missing"
  b.settle();
  EXPECT_EQ(error_condition(b.take()[0]), "item-not-found");
  b.store.add_room("p2", "Garden");
  b.send(
      "<presence from='alice@example.com/web' to='p2@rooms.example.com/Alice'>"
      "<x xmlns='http://jabber.org/protocol/muc'/></presence>");
  EXPECT_EQ(b.store.load_room_calls(), 2u);
}

TEST(LoadingRooms, StanzasWaitingForALoadAreBounded) {
  auto c = Bench::default_config();
  c.muc.max_queued_while_loading = 2;
  RoomBench b(c);
  // No settle between them: the room's record is still being read.
  for (int i = 0; i < 3; ++i)
    b.service->handle(xml("<iq type='get' id='q" + std::to_string(i) +
                          "' from='alice@example.com/web' to='p1@rooms.example.com'>" + DISCO +
                          "</iq>"));
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("id"), "q2");
  EXPECT_EQ(error_condition(out[0]), "resource-constraint");
  EXPECT_EQ(refused(b, "loading_queue"), 1u);
  b.settle();
  out = b.take();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].attr("type"), "result");
  EXPECT_EQ(out[1].attr("type"), "result");
}

}  // namespace
}  // namespace salon::muc::test
