// SPDX-License-Identifier: GPL-3.0-or-later
// CountFolder's tallies (fold.hpp): what each committed batch claims about a room's id range,
// and how claims survive a failed fold or a batch whose outcome is unknown. The SQL that folds
// them is tested against PostgreSQL in store_test.cpp.
#include <gtest/gtest.h>

#include "fold.hpp"

namespace salon::archive {
namespace {

std::vector<Row> rows_of(std::initializer_list<std::int64_t> rooms) {
  std::vector<Row> out;
  for (const std::int64_t room : rooms) {
    Row r;
    r.room_id = room;
    out.push_back(r);
  }
  return out;
}

TEST(Tallies, AClaimStartsWhereTheRoomsFirstBatchStarts) {
  Tallies t;
  tally(t, rows_of({1, 2, 1}), 100, 103);
  tally(t, rows_of({2, 3}), 103, 105);
  EXPECT_EQ(t.at(1).rows, 2);
  EXPECT_EQ(t.at(1).after, 100);
  EXPECT_EQ(t.at(1).upto, 103);
  EXPECT_EQ(t.at(2).rows, 2);
  EXPECT_EQ(t.at(2).after, 100);  // rows 101..105 of room 2: all tallied
  EXPECT_EQ(t.at(2).upto, 105);
  EXPECT_EQ(t.at(3).after, 103);
}

TEST(Tallies, ReplayedRowsAndUnknownOutcomesDropTheClaim) {
  Tallies t;
  tally(t, rows_of({1, 2}), 100, 102);
  tally(t, rows_of({1}), -1, 110);  // replayed: some may have been stored already
  EXPECT_EQ(t.at(1).after, -1);
  EXPECT_EQ(t.at(1).upto, 110);
  EXPECT_EQ(t.at(2).after, 100);
  drop_claims(t);
  EXPECT_EQ(t.at(2).after, -1);
  EXPECT_EQ(t.at(2).rows, 1);
}

TEST(Tallies, AFailedFoldGoesBackUnderTheNewerTallies) {
  Tallies older;
  tally(older, rows_of({1, 2, 4}), 100, 103);
  Tallies newer;
  tally(newer, rows_of({1, 3}), 103, 105);
  tally(newer, rows_of({4}), -1, 106);
  merge(newer, older);
  EXPECT_EQ(newer.at(1).rows, 2);
  EXPECT_EQ(newer.at(1).after, 100);  // the older claim's start, up to the newer's end
  EXPECT_EQ(newer.at(1).upto, 105);
  EXPECT_EQ(newer.at(2).after, 100);
  EXPECT_EQ(newer.at(2).upto, 103);
  EXPECT_EQ(newer.at(3).after, 103);
  EXPECT_EQ(newer.at(4).after, -1);  // no claim on either side survives the merge
  EXPECT_EQ(newer.at(4).rows, 2);
}

}  // namespace
}  // namespace salon::archive
