// SPDX-License-Identifier: GPL-3.0-or-later
#include "store_fixture.hpp"

#include <gtest/gtest.h>

#include "db/migrations.hpp"

namespace salon::store::test {

void StoreTest::SetUp() {
  PgTest::SetUp();
  if (HasFatalFailure()) return;
  db::Options o;
  o.conninfo = conninfo();
  o.health_interval = std::chrono::milliseconds(200);
  o.schema_dir = db::default_schema_dir();
  database_ = std::make_unique<db::Database>(io_, metrics_, o);
  std::optional<db::MigrationResult> migrated;
  database_->on_migrations([&](const db::MigrationResult& r) { migrated = r; });
  ASSERT_TRUE(run_until([&] { return migrated.has_value(); })) << "migrations did not finish";
  ASSERT_TRUE(migrated->ok()) << migrated->error;
  store_ = std::make_unique<PgRoomStore>(*database_);
}

void StoreTest::TearDown() {
  store_.reset();
  if (database_) database_->stop();
  database_.reset();
  PgTest::TearDown();
}

void StoreTest::on_loop_check() const {
  EXPECT_EQ(std::this_thread::get_id(), loop_thread_) << "done must run on the loop thread";
}

void StoreTest::await(const int& answered, int expected) {
  ASSERT_TRUE(run_until([&] { return answered >= expected; })) << "the store did not answer";
  // Nothing else may arrive: drain what is ready and check the count again.
  io_.poll();
  EXPECT_EQ(answered, expected) << "done was called more than once";
}

std::optional<muc::RoomRecord> StoreTest::load(const std::string& local) {
  int n = 0;
  std::optional<muc::RoomRecord> out;
  store_->load_room(local, [&](std::optional<muc::RoomRecord> r, muc::StoreError e) {
    on_loop_check();
    EXPECT_FALSE(e) << e.message;
    out = std::move(r);
    ++n;
  });
  await(n, 1);
  return out;
}

Upsert StoreTest::upsert(const muc::ProjectSpec& s) {
  int n = 0;
  Upsert out;
  store_->upsert_project(s, [&](std::optional<muc::RoomRecord> r, bool created, muc::StoreError e) {
    on_loop_check();
    out = {std::move(r), created, std::move(e)};
    ++n;
  });
  await(n, 1);
  return out;
}

bool StoreTest::remove(const std::string& local) {
  int n = 0;
  bool existed = false;
  store_->delete_room(local, [&](bool x, muc::StoreError e) {
    on_loop_check();
    EXPECT_FALSE(e) << e.message;
    existed = x;
    ++n;
  });
  await(n, 1);
  return existed;
}

muc::StoreError StoreTest::set_affiliation(std::int64_t room_id, const muc::AffiliationRecord& a) {
  int n = 0;
  muc::StoreError out;
  store_->set_affiliation(room_id, a, [&](muc::StoreError e) {
    on_loop_check();
    out = std::move(e);
    ++n;
  });
  await(n, 1);
  return out;
}

muc::StoreError StoreTest::save_room(const muc::RoomRecord& room) {
  int n = 0;
  muc::StoreError out;
  store_->save_room(room, [&](muc::StoreError e) {
    on_loop_check();
    out = std::move(e);
    ++n;
  });
  await(n, 1);
  return out;
}

muc::StoreError StoreTest::save_occupants(std::int64_t room_id,
                                          std::vector<muc::PersistedOccupant> o) {
  int n = 0;
  muc::StoreError out;
  store_->save_occupants(room_id, std::move(o), [&](muc::StoreError e) {
    on_loop_check();
    out = std::move(e);
    ++n;
  });
  await(n, 1);
  return out;
}

std::vector<muc::RestoredRoom> StoreTest::occupied() {
  int n = 0;
  std::vector<muc::RestoredRoom> out;
  store_->load_occupied_rooms([&](std::vector<muc::RestoredRoom> r, muc::StoreError e) {
    on_loop_check();
    EXPECT_FALSE(e) << e.message;
    out = std::move(r);
    ++n;
  });
  await(n, 1);
  return out;
}

std::map<std::string, std::string> StoreTest::rooms_of(const std::string& bare) {
  int n = 0;
  std::map<std::string, std::string> out;
  store_->rooms_of(bare, [&](std::map<std::string, std::string> r, muc::StoreError e) {
    on_loop_check();
    EXPECT_FALSE(e) << e.message;
    out = std::move(r);
    ++n;
  });
  await(n, 1);
  return out;
}

muc::AffiliationRecord StoreTest::member(std::string jid, std::string nick, std::string role,
                                         muc::Affiliation a, std::string email) {
  muc::AffiliationRecord r;
  r.jid = std::move(jid);
  r.nick = std::move(nick);
  r.role = std::move(role);
  r.affiliation = a;
  r.email = std::move(email);
  return r;
}

muc::ProjectSpec StoreTest::spec(std::string local, std::vector<muc::AffiliationRecord> members,
                                 std::string name, std::string description) {
  return {std::move(local), std::move(name), std::move(description), std::move(members)};
}

}  // namespace salon::store::test
