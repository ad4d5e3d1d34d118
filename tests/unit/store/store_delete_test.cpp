// SPDX-License-Identifier: GPL-3.0-or-later
// Deleting a room with a large archive: the archive's rows go in batches outside the archive's
// exclusive lock (schemas/004), so the archive batches of other rooms are not held up behind one
// long DELETE.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "store_fixture.hpp"

namespace salon::store::test {
namespace {

// What the archive writer holds while a batch is in flight (plugins/archive/store.cpp,
// kLockRooms); the room's DELETE takes it exclusively.
constexpr const char* kWriterLock = "SELECT pg_advisory_xact_lock_shared(126862268263937)";

// `n` archive rows for the room, counted up to the newest as the archive's fold leaves them.
void archive_rows(pqxx::connection& c, std::int64_t room_id, int n) {
  pqxx::work tx(c);
  tx.exec_params0(
      "INSERT INTO archive (room_id, stanza_id, ts, kind, nick, sender_jid, occupant_id, body, "
      "stanza) SELECT $1::bigint, $1::text || '-' || g, now(), 'message', 'n', 'a@localhost', 'o', "
      "'b', "
      "'<message/>' FROM generate_series(1, $2) g",
      room_id, n);
  tx.exec_params0(
      "INSERT INTO archive_counts (room_id, messages, upto) SELECT $1, count(*), max(id) "
      "FROM archive WHERE room_id = $1",
      room_id);
  tx.commit();
}

// A writer batch is in flight the whole time (it holds the archive lock shared). The old code
// deleted the room's 12,000 rows in the room's DELETE, which waited for that lock: none of them
// went until the batch committed, and every later batch of every room queued behind the DELETE.
// Now they go in batches that do not take the lock, and only the room's DELETE waits.
TEST_F(StoreTest, ARoomsArchiveIsDeletedInBatchesOutsideTheWritersLock) {
  const auto p1 = upsert(spec("p1", {})).room;
  const auto p2 = upsert(spec("p2", {})).room;
  ASSERT_TRUE(p1 && p2);
  pqxx::connection c(conninfo());
  archive_rows(c, p1->id, 12000);
  archive_rows(c, p2->id, 3);

  pqxx::connection writer(conninfo());
  std::optional<pqxx::work> batch;
  batch.emplace(writer);
  batch->exec(kWriterLock);

  int answered = 0;
  bool existed = false;
  store_->delete_room("p1", [&](bool x, muc::StoreError e) {
    on_loop_check();
    EXPECT_FALSE(e) << e.message;
    existed = x;
    ++answered;
  });
  const std::string p1_rows =
      "SELECT count(*) FROM archive WHERE room_id = " + std::to_string(p1->id);
  EXPECT_TRUE(run_until([&] { return scalar(p1_rows) == "0"; }))
      << "the room's archive was not deleted while a writer batch was in flight";
  EXPECT_EQ(answered, 0);  // the room's own DELETE waits for the batch, as it must
  EXPECT_EQ(scalar("SELECT messages FROM archive_counts WHERE room_id = " + std::to_string(p1->id)),
            "0");  // counts stay exact while the room is still there
  batch->commit();
  batch.reset();
  await(answered, 1);
  EXPECT_TRUE(existed);
  EXPECT_FALSE(load("p1"));
  EXPECT_EQ(scalar("SELECT count(*) FROM archive WHERE room_id = " + std::to_string(p2->id)), "3");
  EXPECT_EQ(scalar("SELECT messages FROM archive_counts WHERE room_id = " + std::to_string(p2->id)),
            "3");
}

// Rows archived after the count's watermark (not folded yet) are left to the room's DELETE,
// which takes them with the room: nothing of the room stays behind.
TEST_F(StoreTest, RowsAboveTheWatermarkGoWithTheRoom) {
  const auto p1 = upsert(spec("p1", {})).room;
  ASSERT_TRUE(p1);
  pqxx::connection c(conninfo());
  archive_rows(c, p1->id, 10);
  pqxx::work tx(c);
  tx.exec_params0(
      "INSERT INTO archive (room_id, stanza_id, ts, kind, nick, sender_jid, occupant_id, body, "
      "stanza) VALUES ($1, 'late', now(), 'message', 'n', 'a@localhost', 'o', 'b', '<message/>')",
      p1->id);
  tx.commit();
  EXPECT_TRUE(remove("p1"));
  EXPECT_EQ(scalar("SELECT count(*) FROM archive"), "0");
  EXPECT_EQ(scalar("SELECT count(*) FROM archive_counts"), "0");
}

}  // namespace
}  // namespace salon::store::test
