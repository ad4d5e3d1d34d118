// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "tracker.hpp"

namespace salon::email {
namespace {

class Tracker : public ::testing::Test {
protected:
  void SetUp() override { t.load({}, 0); }  // nothing stored by an earlier process
  PendingTracker t;
};

TEST_F(Tracker, OneRowPerAbsentMemberNotPerMessage) {
  EXPECT_TRUE(t.missed(1, "bob@x", 100));
  EXPECT_FALSE(t.missed(1, "bob@x", 200));  // on its way
  t.stored(1, "bob@x");
  EXPECT_FALSE(t.missed(1, "bob@x", 300));   // stored
  EXPECT_TRUE(t.missed(1, "carol@x", 300));  // another member
  EXPECT_TRUE(t.missed(2, "bob@x", 300));    // another room
}

TEST_F(Tracker, AnUnsureBatchAddsTheRowAgainWithTheNextMessage) {
  EXPECT_TRUE(t.missed(1, "bob@x", 100));
  t.unsure();
  EXPECT_TRUE(t.missed(1, "bob@x", 200));
}

TEST_F(Tracker, JoiningOrWritingCancelsOnlyWhatMayExist) {
  EXPECT_FALSE(t.cancel(1, "bob@x"));  // nothing known: no statement
  EXPECT_TRUE(t.missed(1, "bob@x", 100));
  EXPECT_TRUE(t.cancel(1, "bob@x"));       // on its way: the cancel follows it in the journal
  EXPECT_TRUE(t.missed(1, "bob@x", 200));  // missed again afterwards: a new row
}

TEST_F(Tracker, AMarkerCancelsOnlyWhenEverythingMissedWasRead) {
  EXPECT_TRUE(t.missed(1, "bob@x", 100));
  t.stored(1, "bob@x");
  EXPECT_FALSE(t.missed(1, "bob@x", 200));
  EXPECT_FALSE(t.read(1, "bob@x", 150));  // read the first only: the digest shows the second
  EXPECT_TRUE(t.read(1, "bob@x", 200));   // read up to the last missed: nothing left
  EXPECT_FALSE(t.read(1, "bob@x", 300));  // already gone
}

TEST_F(Tracker, ADigestThatCoveredEverythingEndsThePair) {
  EXPECT_TRUE(t.missed(1, "bob@x", 100));
  t.stored(1, "bob@x");
  EXPECT_FALSE(t.handled(1, "bob@x", 100));
  EXPECT_TRUE(t.missed(1, "bob@x", 500));  // a new row for what comes next
}

TEST_F(Tracker, MissedAfterTheDigestCoveredSomethingQueuesAnew) {
  EXPECT_TRUE(t.missed(1, "bob@x", 100));
  t.stored(1, "bob@x");
  EXPECT_FALSE(t.missed(1, "bob@x", 400));  // while the digest was being sent
  EXPECT_TRUE(t.handled(1, "bob@x", 300));  // it covered up to 300: 400 needs a row
  EXPECT_FALSE(t.missed(1, "bob@x", 500));  // that row is on its way
}

TEST(TrackerLoad, BeforeTheLoadEveryCancelIsSubmitted) {
  PendingTracker t;
  EXPECT_TRUE(t.cancel(1, "bob@x"));
  EXPECT_TRUE(t.read(1, "bob@x", 5));
  t.load({{1, "bob@x"}}, 1000);
  // A row from before the start stands for messages up to the start, at least.
  EXPECT_FALSE(t.read(1, "bob@x", 999));
  EXPECT_TRUE(t.handled(1, "bob@x", 999));  // maybe missed more before the start: keep it
  t.stored(1, "bob@x");
  EXPECT_FALSE(t.handled(1, "bob@x", 1000));
  EXPECT_FALSE(t.cancel(1, "carol@x"));  // loaded: unknown pairs have no row
}

TEST_F(Tracker, ForgettingAMemberOrARoom) {
  t.missed(1, "bob@x", 1);
  t.missed(2, "bob@x", 1);
  t.missed(1, "carol@x", 1);
  t.forget("bob@x", 2);
  EXPECT_EQ(t.size(), 2u);
  t.forget("bob@x");
  EXPECT_EQ(t.size(), 1u);
  t.forget_room(1);
  EXPECT_EQ(t.size(), 0u);
}

}  // namespace
}  // namespace salon::email
