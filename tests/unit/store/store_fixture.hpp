// SPDX-License-Identifier: GPL-3.0-or-later
// PgRoomStore tests: a scratch database migrated by salon_db from schemas/, a store on it, and
// blocking helpers that run the loop until the store has answered. Each helper also checks the
// store's contract: `done` exactly once, on the loop thread (this test's thread).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/metrics.hpp"
#include "db/database.hpp"
#include "muc/store.hpp"
#include "pg_env.hpp"
#include "store/store_pg.hpp"

namespace salon::store::test {

struct Upsert {
  std::optional<muc::RoomRecord> room;
  bool created = false;
  muc::StoreError error;
};

class StoreTest : public db::test::PgTest {
protected:
  void SetUp() override;
  void TearDown() override;

  std::optional<muc::RoomRecord> load(const std::string& local);
  Upsert upsert(const muc::ProjectSpec& spec);
  bool remove(const std::string& local);  // existed
  muc::StoreError set_affiliation(std::int64_t room_id, const muc::AffiliationRecord& a);
  muc::StoreError save_room(const muc::RoomRecord& room);
  muc::StoreError save_occupants(std::int64_t room_id, std::vector<muc::PersistedOccupant> o);
  std::vector<muc::RestoredRoom> occupied();
  std::map<std::string, std::string> rooms_of(const std::string& bare);

  // Runs the loop until `answered` counts one more answer; fails the test otherwise.
  void await(const int& answered, int expected);
  // Wraps a callback: counts it, checks the thread.
  void on_loop_check() const;

public:
  static muc::AffiliationRecord member(std::string jid, std::string nick, std::string role,
                                       muc::Affiliation a = muc::Affiliation::member,
                                       std::string email = {});
  static muc::ProjectSpec spec(std::string local, std::vector<muc::AffiliationRecord> members,
                               std::string name = "Project", std::string description = "");

protected:
  Metrics metrics_;
  std::unique_ptr<db::Database> database_;
  std::unique_ptr<PgRoomStore> store_;
  std::thread::id loop_thread_ = std::this_thread::get_id();
};

}  // namespace salon::store::test
