// SPDX-License-Identifier: GPL-3.0-or-later
// Occupants persisted write-behind and restored at start-up.
#include <gtest/gtest.h>

#include "store_fixture.hpp"

namespace salon::store::test {
namespace {

using muc::Affiliation;
using muc::PersistedOccupant;

std::vector<std::string> real_jids(const std::vector<PersistedOccupant>& o) {
  std::vector<std::string> out;
  for (const auto& x : o)
    out.push_back(x.real_jid);
  return out;
}

class Occupants : public StoreTest {
protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (HasFatalFailure()) return;
    room_ = upsert(spec("p", {member("alice@localhost", "Alice", "client"),
                              member("carol@localhost", "Carol", "staff", Affiliation::owner)}))
                .room->id;
  }
  std::int64_t room_ = 0;
};

TEST_F(Occupants, NoOccupantsNoRestoredRooms) {
  EXPECT_TRUE(occupied().empty());
}

TEST_F(Occupants, SavedOccupantsComeBackWithTheirRoom) {
  const std::string presence =
      "<presence from='p@rooms.localhost/Alice'><show>away</show><status>it's \"lunch\"</status>"
      "<x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' "
      "role='participant'/></x></presence>";
  ASSERT_FALSE(save_occupants(room_, {{"Alice", "alice@localhost/web", "participant", presence},
                                      {"Alice", "alice@localhost/phone", "participant", presence},
                                      {"Carol", "carol@localhost/x", "moderator", "<presence/>"}}));
  upsert(spec("empty", {}));
  const auto rooms = occupied();
  ASSERT_EQ(rooms.size(), 1u);
  EXPECT_EQ(rooms[0].room.local, "p");
  EXPECT_EQ(rooms[0].room.id, room_);
  EXPECT_EQ(rooms[0].room.affiliations.size(), 2u);
  ASSERT_EQ(rooms[0].occupants.size(), 3u);
  EXPECT_EQ(real_jids(rooms[0].occupants),
            (std::vector<std::string>{"alice@localhost/phone", "alice@localhost/web",
                                      "carol@localhost/x"}));
  EXPECT_EQ(rooms[0].occupants[0].nick, "Alice");
  EXPECT_EQ(rooms[0].occupants[0].role, "participant");
  EXPECT_EQ(rooms[0].occupants[0].presence_xml, presence);
  EXPECT_EQ(rooms[0].occupants[2].role, "moderator");
}

TEST_F(Occupants, SaveReplacesTheRoomsSet) {
  ASSERT_FALSE(save_occupants(room_, {{"Alice", "alice@localhost/web", "participant", "<a/>"},
                                      {"Carol", "carol@localhost/x", "moderator", "<c/>"}}));
  ASSERT_FALSE(save_occupants(room_, {{"Carol", "carol@localhost/x", "moderator", "<c2/>"}}));
  auto rooms = occupied();
  ASSERT_EQ(rooms.size(), 1u);
  ASSERT_EQ(rooms[0].occupants.size(), 1u);
  EXPECT_EQ(rooms[0].occupants[0].presence_xml, "<c2/>");
  ASSERT_FALSE(save_occupants(room_, {}));
  EXPECT_TRUE(occupied().empty());
}

TEST_F(Occupants, RoomsAreIndependent) {
  const auto other = upsert(spec("q", {member("bob@localhost", "Bob", "client")})).room->id;
  ASSERT_FALSE(save_occupants(room_, {{"Alice", "alice@localhost/web", "participant", "<a/>"}}));
  ASSERT_FALSE(save_occupants(other, {{"Bob", "bob@localhost/web", "participant", "<b/>"}}));
  ASSERT_FALSE(save_occupants(room_, {}));
  const auto rooms = occupied();
  ASSERT_EQ(rooms.size(), 1u);
  EXPECT_EQ(rooms[0].room.local, "q");
  EXPECT_EQ(rooms[0].occupants.size(), 1u);
  EXPECT_EQ(rooms[0].room.affiliations.size(), 1u);
}

TEST_F(Occupants, ARealJidListedTwiceKeepsTheLast) {
  ASSERT_FALSE(save_occupants(room_, {{"Alice", "alice@localhost/web", "participant", "<1/>"},
                                      {"Alice", "alice@localhost/web", "participant", "<2/>"}}));
  const auto rooms = occupied();
  ASSERT_EQ(rooms.size(), 1u);
  ASSERT_EQ(rooms[0].occupants.size(), 1u);
  EXPECT_EQ(rooms[0].occupants[0].presence_xml, "<2/>");
}

TEST_F(Occupants, SavingForADeletedRoomIsANoOp) {
  ASSERT_TRUE(remove("p"));
  EXPECT_FALSE(save_occupants(room_, {{"Alice", "alice@localhost/web", "participant", "<a/>"}}));
  EXPECT_EQ(scalar("SELECT count(*) FROM occupants"), "0");
}

TEST_F(Occupants, WritesCompleteInCallOrderAndTheLastWins) {
  // Write-behind: many saves queued at once (group commit), answered in order on the loop.
  std::vector<int> order;
  for (int i = 0; i < 50; ++i)
    store_->save_occupants(room_,
                           {{"Alice", "alice@localhost/web", "participant",
                             "<presence id='" + std::to_string(i) + "'/>"}},
                           [&, i](muc::StoreError e) {
                             on_loop_check();
                             EXPECT_FALSE(e) << e.message;
                             order.push_back(i);
                           });
  ASSERT_TRUE(run_until([&] { return order.size() == 50; }));
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
  const auto rooms = occupied();
  ASSERT_EQ(rooms.size(), 1u);
  EXPECT_EQ(rooms[0].occupants[0].presence_xml, "<presence id='49'/>");
}

TEST_F(Occupants, LargeSetsAndLargePresences) {
  std::vector<PersistedOccupant> many;
  const std::string big(20000, 'x');
  for (int i = 0; i < 300; ++i)
    many.push_back({"nick" + std::to_string(i), "u" + std::to_string(i) + "@localhost/r",
                    "participant", "<presence>" + big + "</presence>"});
  ASSERT_FALSE(save_occupants(room_, many));
  const auto rooms = occupied();
  ASSERT_EQ(rooms.size(), 1u);
  EXPECT_EQ(rooms[0].occupants.size(), 300u);
  EXPECT_EQ(rooms[0].occupants[0].presence_xml.size(), big.size() + 21);
}

}  // namespace
}  // namespace salon::store::test
