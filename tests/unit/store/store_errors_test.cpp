// SPDX-License-Identifier: GPL-3.0-or-later
// Failures: they come back as StoreError on the loop, exactly once, and never take other
// queued writes down with them.
#include <gtest/gtest.h>

#include "store_fixture.hpp"

namespace salon::store::test {
namespace {

using muc::Affiliation;

TEST_F(StoreTest, ConstraintViolationFailsOnlyThatWrite) {
  // The API refuses nicks equal ignoring case; the database enforces it too (lower(nick) index).
  int answered = 0;
  muc::StoreError bad_error, good_error;
  std::optional<muc::RoomRecord> bad_room, good_room;
  store_->upsert_project(spec("bad", {member("a@localhost", "Same", "client"),
                                      member("b@localhost", "same", "client")}),
                         [&](std::optional<muc::RoomRecord> r, bool, muc::StoreError e) {
                           on_loop_check();
                           EXPECT_EQ(answered, 0) << "answers come in call order";
                           bad_room = std::move(r);
                           bad_error = std::move(e);
                           ++answered;
                         });
  store_->upsert_project(spec("good", {member("a@localhost", "Same", "client")}),
                         [&](std::optional<muc::RoomRecord> r, bool, muc::StoreError e) {
                           on_loop_check();
                           good_room = std::move(r);
                           good_error = std::move(e);
                           ++answered;
                         });
  await(answered, 2);
  EXPECT_TRUE(bad_error);
  EXPECT_NE(bad_error.message.find("affiliations_room_nick"), std::string::npos)
      << bad_error.message;
  EXPECT_FALSE(bad_room);
  EXPECT_FALSE(good_error) << good_error.message;
  ASSERT_TRUE(good_room);
  // The failed project left nothing behind: its room insert was rolled back with it.
  EXPECT_EQ(load("bad"), std::nullopt);
  EXPECT_EQ(scalar("SELECT count(*) FROM rooms"), "1");
}

class Unreachable : public ::testing::Test {
protected:
  boost::asio::io_context io_;
  // Without outstanding work run_for() would stop the loop for good.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_ =
      boost::asio::make_work_guard(io_);
  Metrics metrics_;
  std::thread::id loop_ = std::this_thread::get_id();

  bool run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      io_.run_for(std::chrono::milliseconds(5));
    }
    return true;
  }
};

TEST_F(Unreachable, EveryCallAnswersWithAnErrorOnTheLoop) {
  // Port 1 on loopback: nothing listens there, connections are refused at once.
  db::Options o;
  o.conninfo = "host=127.0.0.1 port=1 dbname=salon user=salon connect_timeout=2";
  o.readers = 1;
  db::Database database(io_, metrics_, o);
  PgRoomStore store(database);
  std::vector<std::string> errors;
  auto record = [&](const muc::StoreError& e) {
    EXPECT_EQ(std::this_thread::get_id(), loop_);
    errors.push_back(e.message);
  };
  store.load_room("p", [&](std::optional<muc::RoomRecord> r, muc::StoreError e) {
    EXPECT_FALSE(r);
    record(e);
  });
  store.upsert_project({"p", "n", "", {}},
                       [&](std::optional<muc::RoomRecord> r, bool, muc::StoreError e) {
                         EXPECT_FALSE(r);
                         record(e);
                       });
  store.delete_room("p", [&](bool, muc::StoreError e) { record(e); });
  store.set_affiliation(1, {}, [&](muc::StoreError e) { record(e); });
  store.save_room({}, [&](muc::StoreError e) { record(e); });
  store.save_occupants(1, {}, [&](muc::StoreError e) { record(e); });
  store.load_occupied_rooms([&](std::vector<muc::RestoredRoom> r, muc::StoreError e) {
    EXPECT_TRUE(r.empty());
    record(e);
  });
  store.rooms_of("a@localhost", [&](std::map<std::string, std::string> r, muc::StoreError e) {
    EXPECT_TRUE(r.empty());
    record(e);
  });
  ASSERT_TRUE(run_until([&] { return errors.size() == 8; })) << errors.size() << " answers";
  for (const auto& e : errors)
    EXPECT_FALSE(e.empty());
  database.stop();
  io_.poll();
  EXPECT_EQ(errors.size(), 8u) << "each call answers exactly once";
}

}  // namespace
}  // namespace salon::store::test
