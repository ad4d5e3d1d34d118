// SPDX-License-Identifier: GPL-3.0-or-later
// Restart invisibility: occupants written behind (coalesced) and restored by a new Service over
// the same store without any presence; SIGTERM flushes without unavailable presences; SIGKILL
// loses at most the last ~200 ms; restored ghosts leave on their first bounce.
#include "harness.hpp"

namespace salon::muc::test {
namespace {

constexpr const char* A = "alice@example.com/web";
constexpr const char* A2 = "alice@example.com/phone";
constexpr const char* B = "bob@example.com/pc";
constexpr auto kWrite = std::chrono::milliseconds(300);

TEST(WriteBehind, CoalescesIntoOneWriteOfTheFullSet) {
  RoomBench b;
  b.joined(B, "Bob");
  b.join(A, "Alice");
  b.send(
      "<presence from='alice@example.com/web' to='p1@rooms.example.com/Alice'>"
      "<show>away</show></presence>");
  b.take();
  EXPECT_EQ(b.store.save_occupants_calls(), 0u);
  b.run_for(kWrite);
  EXPECT_EQ(b.store.save_occupants_calls(), 1u);
  auto rows = b.store.occupants_of("p1");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].nick, "Alice");
  EXPECT_EQ(rows[0].real_jid, A);
  EXPECT_EQ(rows[0].role, "participant");
  EXPECT_EQ(canon(rows[0].presence_xml), canon("<presence><show>away</show></presence>"));
  EXPECT_EQ(rows[1].nick, "Bob");
}

TEST(WriteBehind, FailedWriteIsRetried) {
  RoomBench b;
  b.store.fail_next("save_occupants", "db down");
  b.joined(A, "Alice");
  b.run_for(kWrite);
  EXPECT_TRUE(b.store.occupants_of("p1").empty());
  b.run_for(kWrite);
  EXPECT_EQ(b.store.occupants_of("p1").size(), 1u);
}

TEST(Restore, NewServiceCarriesOnWithoutPresences) {
  RoomBench b;
  b.service->start();
  b.settle();
  b.joined(B, "Bob");
  b.joined(A, "Alice");
  b.joined(A2, "Alice");
  b.run_for(kWrite);
  // SIGKILL: the old service is simply gone.
  b.make_service();
  EXPECT_FALSE(b.service->start());
  b.settle();
  EXPECT_TRUE(b.take().empty());
  EXPECT_EQ(b.service->occupants(), 2u);
  EXPECT_EQ(b.service->loaded_rooms(), 1u);
  // Traffic continues: the message is accepted and reaches every resource.
  b.groupchat(A, "after restart");
  auto out = b.take();
  ASSERT_EQ(out.size(), 3u);
  for (const auto& m : out) {
    EXPECT_EQ(m.attr("type"), "groupchat");
    EXPECT_EQ(m.child("occupant-id")->attr("id"), b.oid("alice@example.com"));
  }
  b.iq(A2, "p1@rooms.example.com/Alice", "get", "<ping xmlns='urn:xmpp:ping'/>");
  EXPECT_EQ(b.take()[0].attr("type"), "result");
  // Presences of restored occupants are what they were.
  b.joined("carol@example.com/x", "Carol");
  b.join("sam@example.com/d", "Sam");
  auto sam = b.take_to("sam@example.com/d");
  ASSERT_EQ(sam.size(), 5u);  // Alice, Bob, Carol, self, subject
  EXPECT_EQ(sam[0].attr("from"), "p1@rooms.example.com/Alice");
  EXPECT_EQ(sam[0].child("x")->child("item")->attr("jid"), A2);
}

TEST(Restore, StopFlushesAndSendsNoUnavailable) {
  RoomBench b;
  b.service->start();
  b.settle();
  b.joined(A, "Alice");
  bool stopped = false;
  b.service->stop([&] { stopped = true; });
  b.settle();
  EXPECT_TRUE(stopped);
  EXPECT_TRUE(b.take().empty());
  EXPECT_EQ(b.store.occupants_of("p1").size(), 1u);
  b.make_service();
  b.service->start();
  b.settle();
  EXPECT_EQ(b.service->occupants(), 1u);
}

TEST(Restore, StanzasDuringRestoreWaitForIt) {
  RoomBench b;
  b.joined(A, "Alice");
  b.run_for(kWrite);
  b.make_service();
  b.service->start();
  b.service->handle(
      xml("<message type='groupchat' id='early' from='alice@example.com/web' "
          "to='p1@rooms.example.com'><body>x</body></message>"));
  b.settle();
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("type"), "groupchat");
}

TEST(Restore, RevokedMembersAreNotRestored) {
  RoomBench b;
  b.joined(A, "Alice");
  b.joined(B, "Bob");
  b.run_for(kWrite);
  b.store.put_affiliation("p1", {"alice@example.com", Affiliation::none, "", {}, {}, {}});
  b.make_service();
  b.service->start();
  b.settle();
  EXPECT_EQ(b.service->occupants(), 1u);
  b.run_for(kWrite);
  auto rows = b.store.occupants_of("p1");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].nick, "Bob");
}

TEST(Restore, RestoredGhostLeavesOnFirstBounce) {
  RoomBench b;
  b.joined(A, "Alice");
  b.joined(B, "Bob");
  b.run_for(kWrite);
  b.make_service();
  b.service->start();
  b.settle();
  b.groupchat(B, "anyone?");
  b.take();
  b.send(
      "<message type='error' from='alice@example.com/web' to='p1@rooms.example.com/Bob'>"
      "<error type='cancel'><recipient-unavailable "
      "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
  auto out = b.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("to"), B);
  EXPECT_EQ(out[0].attr("type"), "unavailable");
  EXPECT_EQ(b.service->occupants(), 1u);
}

}  // namespace
}  // namespace salon::muc::test
