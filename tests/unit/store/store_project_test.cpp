// SPDX-License-Identifier: GPL-3.0-or-later
// Rooms and affiliations: provisioning (upsert_project), XMPP changes (set_affiliation,
// save_room), delete, and the per-user room list.
#include <gtest/gtest.h>

#include "store_fixture.hpp"

namespace salon::store::test {
namespace {

using muc::Affiliation;

const muc::AffiliationRecord* find(const muc::RoomRecord& room, std::string_view jid) {
  for (const auto& a : room.affiliations)
    if (a.jid == jid) return &a;
  return nullptr;
}

std::vector<muc::AffiliationRecord> three_members() {
  return {StoreTest::member("alice@localhost", "Alice", "client", Affiliation::member,
                            "alice@example.com"),
          StoreTest::member("bob@localhost", "Bob", "designer"),
          StoreTest::member("carol@localhost", "Carol", "staff", Affiliation::owner)};
}

TEST_F(StoreTest, UnknownRoomIsNotAnError) {
  EXPECT_EQ(load("nope"), std::nullopt);
}

TEST_F(StoreTest, UpsertCreatesTheRoomWithItsMembers) {
  const auto u = upsert(spec("p-1", three_members(), "Kitchen", "Two walls"));
  ASSERT_FALSE(u.error) << u.error.message;
  EXPECT_TRUE(u.created);
  ASSERT_TRUE(u.room);
  EXPECT_GT(u.room->id, 0);
  EXPECT_EQ(u.room->local, "p-1");
  EXPECT_EQ(u.room->name, "Kitchen");
  EXPECT_EQ(u.room->description, "Two walls");
  EXPECT_EQ(u.room->subject, "");
  EXPECT_TRUE(u.room->settings.members_can_change_subject);
  EXPECT_TRUE(u.room->settings.allow_private_messages);
  ASSERT_EQ(u.room->affiliations.size(), 3u);
  const auto* alice = find(*u.room, "alice@localhost");
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->affiliation, Affiliation::member);
  EXPECT_EQ(alice->nick, "Alice");
  EXPECT_EQ(alice->email, "alice@example.com");
  EXPECT_EQ(alice->role, "client");
  EXPECT_EQ(alice->reason, "");
  EXPECT_EQ(find(*u.room, "carol@localhost")->affiliation, Affiliation::owner);

  // What upsert answered is what a later read sees.
  const auto loaded = load("p-1");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->id, u.room->id);
  ASSERT_EQ(loaded->affiliations.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(loaded->affiliations[i].jid, u.room->affiliations[i].jid);
    EXPECT_EQ(loaded->affiliations[i].nick, u.room->affiliations[i].nick);
  }
  // NULL, not '', for absent values: the unique nick index and COALESCE rely on it.
  EXPECT_EQ(scalar("SELECT count(*) FROM affiliations WHERE email IS NULL"), "2");
  EXPECT_EQ(scalar("SELECT count(*) FROM affiliations WHERE reason IS NULL"), "3");
}

TEST_F(StoreTest, UpsertAgainUpdatesAndReplacesTheMembers) {
  const auto first = upsert(spec("p", three_members(), "Old name"));
  auto members = three_members();
  members.erase(members.begin() + 1);            // bob leaves
  members[0].nick = "Alice B.";                  // alice renamed
  members[1].affiliation = Affiliation::member;  // carol demoted
  members.push_back(member("dave@localhost", "Dave", "client"));
  const auto second = upsert(spec("p", members, "New name", "now described"));
  ASSERT_FALSE(second.error) << second.error.message;
  EXPECT_FALSE(second.created);
  ASSERT_TRUE(second.room);
  EXPECT_EQ(second.room->id, first.room->id);
  EXPECT_EQ(second.room->name, "New name");
  EXPECT_EQ(second.room->description, "now described");
  ASSERT_EQ(second.room->affiliations.size(), 3u);
  EXPECT_EQ(find(*second.room, "bob@localhost"), nullptr);
  EXPECT_EQ(find(*second.room, "alice@localhost")->nick, "Alice B.");
  EXPECT_EQ(find(*second.room, "carol@localhost")->affiliation, Affiliation::member);
  EXPECT_EQ(find(*second.room, "dave@localhost")->role, "client");
  EXPECT_EQ(scalar("SELECT count(*) FROM rooms"), "1");
}

TEST_F(StoreTest, NicksCanMoveBetweenMembersInOneUpdate) {
  upsert(spec("p", {member("a@localhost", "X", "client"), member("b@localhost", "Y", "client")}));
  const auto u = upsert(
      spec("p", {member("a@localhost", "Y", "client"), member("b@localhost", "X", "client")}));
  ASSERT_FALSE(u.error) << u.error.message;
  EXPECT_EQ(find(*u.room, "a@localhost")->nick, "Y");
}

TEST_F(StoreTest, UpsertKeepsSubjectAndSettings) {
  auto room = *upsert(spec("p", three_members())).room;
  room.subject = "Kick-off Monday";
  room.subject_nick = "Carol";
  room.settings.allow_private_messages = false;
  ASSERT_FALSE(save_room(room));
  const auto u = upsert(spec("p", three_members(), "Renamed"));
  ASSERT_TRUE(u.room);
  EXPECT_EQ(u.room->subject, "Kick-off Monday");
  EXPECT_EQ(u.room->subject_nick, "Carol");
  EXPECT_FALSE(u.room->settings.allow_private_messages);
  EXPECT_TRUE(u.room->settings.members_can_change_subject);
}

TEST_F(StoreTest, UpsertKeepsOutcastsButNotOtherXmppAffiliations) {
  const auto id = upsert(spec("p", three_members())).room->id;
  // Set over XMPP: a ban, a ban with a nick, a member added in the room, an admin.
  ASSERT_FALSE(set_affiliation(id, member("troll@localhost", "", "", Affiliation::outcast)));
  ASSERT_FALSE(set_affiliation(id, member("spam@localhost", "Dave", "", Affiliation::outcast)));
  ASSERT_FALSE(set_affiliation(id, member("guest@localhost", "Guest", "", Affiliation::member)));
  ASSERT_FALSE(set_affiliation(id, member("helper@localhost", "", "", Affiliation::admin)));
  auto members = three_members();
  members.push_back(member("dave@localhost", "dave", "client"));  // takes the banned one's nick
  const auto u = upsert(spec("p", members));
  ASSERT_FALSE(u.error) << u.error.message;
  ASSERT_TRUE(u.room);
  EXPECT_EQ(u.room->affiliations.size(), 6u);
  ASSERT_TRUE(find(*u.room, "troll@localhost"));
  EXPECT_EQ(find(*u.room, "troll@localhost")->affiliation, Affiliation::outcast);
  ASSERT_TRUE(find(*u.room, "spam@localhost"));
  EXPECT_EQ(find(*u.room, "spam@localhost")->nick, "") << "a listed member took the nick";
  EXPECT_EQ(find(*u.room, "dave@localhost")->nick, "dave");
  EXPECT_EQ(find(*u.room, "guest@localhost"), nullptr);
  EXPECT_EQ(find(*u.room, "helper@localhost"), nullptr);
}

TEST_F(StoreTest, ListingABannedMemberLiftsTheBan) {
  const auto id = upsert(spec("p", three_members())).room->id;
  ASSERT_FALSE(set_affiliation(id, member("bob@localhost", "", "", Affiliation::outcast)));
  auto banned = load("p");
  EXPECT_EQ(find(*banned, "bob@localhost")->affiliation, Affiliation::outcast);
  EXPECT_EQ(find(*banned, "bob@localhost")->role, "designer") << "still a provisioned member";

  const auto u = upsert(spec("p", three_members()));
  EXPECT_EQ(find(*u.room, "bob@localhost")->affiliation, Affiliation::member);
}

TEST_F(StoreTest, ABannedMemberLeftOutStaysBannedButIsNoLongerProvisioned) {
  const auto id = upsert(spec("p", three_members())).room->id;
  ASSERT_FALSE(set_affiliation(id, member("bob@localhost", "", "", Affiliation::outcast)));
  auto members = three_members();
  members.erase(members.begin() + 1);
  const auto u = upsert(spec("p", members));
  const auto* bob = find(*u.room, "bob@localhost");
  ASSERT_TRUE(bob);
  EXPECT_EQ(bob->affiliation, Affiliation::outcast);
  EXPECT_EQ(bob->role, "");
  EXPECT_EQ(bob->email, "");
}

TEST_F(StoreTest, SetAffiliationKeepsProvisionedFieldsAndNoneRemoves) {
  const auto id = upsert(spec("p", three_members())).room->id;
  auto promote = member("alice@localhost", "", "", Affiliation::admin);
  promote.reason = "helps a lot";
  ASSERT_FALSE(set_affiliation(id, promote));
  auto room = load("p");
  const auto* alice = find(*room, "alice@localhost");
  EXPECT_EQ(alice->affiliation, Affiliation::admin);
  EXPECT_EQ(alice->nick, "Alice");
  EXPECT_EQ(alice->role, "client");
  EXPECT_EQ(alice->email, "alice@example.com");
  EXPECT_EQ(alice->reason, "helps a lot");

  ASSERT_FALSE(set_affiliation(id, member("alice@localhost", "", "", Affiliation::none)));
  room = load("p");
  EXPECT_EQ(find(*room, "alice@localhost"), nullptr);
  EXPECT_EQ(room->affiliations.size(), 2u);
  // Removing what is not there is fine.
  EXPECT_FALSE(set_affiliation(id, member("zed@localhost", "", "", Affiliation::none)));
}

TEST_F(StoreTest, SetAffiliationOnAMissingRoomFails) {
  const auto e = set_affiliation(987654, member("a@localhost", "", "", Affiliation::member));
  EXPECT_TRUE(e);
}

TEST_F(StoreTest, SaveRoomStoresItsFields) {
  auto room = *upsert(spec("p", three_members())).room;
  room.name = "N";
  room.description = "D";
  room.subject = "S";
  room.subject_nick = "Alice";
  room.settings.members_can_change_subject = false;
  room.settings.allow_private_messages = false;
  room.affiliations.clear();  // save_room does not touch affiliations
  ASSERT_FALSE(save_room(room));
  const auto loaded = load("p");
  EXPECT_EQ(loaded->name, "N");
  EXPECT_EQ(loaded->description, "D");
  EXPECT_EQ(loaded->subject, "S");
  EXPECT_EQ(loaded->subject_nick, "Alice");
  EXPECT_FALSE(loaded->settings.members_can_change_subject);
  EXPECT_FALSE(loaded->settings.allow_private_messages);
  EXPECT_EQ(loaded->affiliations.size(), 3u);
  room.settings.allow_private_messages = true;
  room.subject_nick.clear();
  ASSERT_FALSE(save_room(room));
  EXPECT_TRUE(load("p")->settings.allow_private_messages);
  EXPECT_EQ(scalar("SELECT count(*) FROM rooms WHERE subject_nick IS NULL"), "1");
}

TEST_F(StoreTest, DeleteRemovesRoomAffiliationsAndOccupants) {
  const auto id = upsert(spec("p", three_members())).room->id;
  upsert(spec("other", three_members()));
  ASSERT_FALSE(
      save_occupants(id, {{"Alice", "alice@localhost/web", "participant", "<presence/>"}}));
  EXPECT_TRUE(remove("p"));
  EXPECT_EQ(load("p"), std::nullopt);
  EXPECT_FALSE(remove("p"));
  EXPECT_EQ(scalar("SELECT count(*) FROM affiliations"), "3");
  EXPECT_EQ(scalar("SELECT count(*) FROM occupants"), "0");
  EXPECT_TRUE(load("other"));
  // The id can be provisioned again: a new room.
  const auto again = upsert(spec("p", {}));
  EXPECT_TRUE(again.created);
  EXPECT_NE(again.room->id, id);
}

TEST_F(StoreTest, RoomsOfListsAffiliatedRoomsOnly) {
  upsert(spec("a", {member("u@localhost", "U", "client")}, "Room A"));
  upsert(spec("b", {member("u@localhost", "U", "staff", Affiliation::owner)}, "Room B"));
  const auto c = upsert(spec("c", {member("v@localhost", "V", "client")}, "Room C")).room->id;
  ASSERT_FALSE(set_affiliation(c, member("u@localhost", "", "", Affiliation::outcast)));
  upsert(spec("d", {member("v@localhost", "V", "client")}, "Room D"));
  const auto d = load("d")->id;
  ASSERT_FALSE(set_affiliation(d, member("u@localhost", "", "", Affiliation::admin)));
  EXPECT_EQ(rooms_of("u@localhost"), (std::map<std::string, std::string>{
                                         {"a", "Room A"}, {"b", "Room B"}, {"d", "Room D"}}));
  EXPECT_TRUE(rooms_of("nobody@localhost").empty());
}

TEST_F(StoreTest, TextWithQuotesBracesAndUnicodeRoundTrips) {
  // Members travel as text[] parameters: every character that means something in an array
  // literal must come back unchanged.
  const std::vector<std::string> nicks = {"a\"b",     "back\\slash",
                                          "{braces}", "com,ma",
                                          "NULL",     "",
                                          "sp ace",   "caf\xc3\xa9 \xf0\x9f\x98\x80"};
  std::vector<muc::AffiliationRecord> members;
  for (std::size_t i = 0; i < nicks.size(); ++i)
    members.push_back(member("u" + std::to_string(i) + "@localhost", nicks[i], "client",
                             Affiliation::member, i % 2 ? "x\"y@example.com" : ""));
  const auto u = upsert(spec("p", members));
  ASSERT_FALSE(u.error) << u.error.message;
  for (std::size_t i = 0; i < nicks.size(); ++i) {
    const auto* a = find(*u.room, "u" + std::to_string(i) + "@localhost");
    ASSERT_TRUE(a) << i;
    EXPECT_EQ(a->nick, nicks[i]);
    EXPECT_EQ(a->email, i % 2 ? "x\"y@example.com" : "");
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM affiliations WHERE nick IS NULL"), "1") << "'' is NULL";
}

}  // namespace
}  // namespace salon::store::test
