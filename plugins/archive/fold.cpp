// SPDX-License-Identifier: GPL-3.0-or-later
#include "fold.hpp"

#include <chrono>

#include "core/log.hpp"
#include "db/database.hpp"
#include "store.hpp"

namespace salon::archive {
namespace {
constexpr std::size_t kRoomsPerFold = 100;
constexpr auto kInterval = std::chrono::seconds(1);
}  // namespace

CountFolder::CountFolder(boost::asio::io_context& loop, db::Database& db) : db_(db), timer_(loop) {}

CountFolder::~CountFolder() {
  timer_.cancel();
}

void CountFolder::stored(std::int64_t room_id) {
  if (waiting_.insert(room_id).second) order_.push_back(room_id);
  arm();
}

void CountFolder::arm() {
  if (armed_ || folding_ || order_.empty()) return;
  armed_ = true;
  timer_.expires_after(kInterval);
  timer_.async_wait([this, life = std::weak_ptr<int>(alive_)](boost::system::error_code ec) {
    if (ec || life.expired()) return;
    armed_ = false;
    fold();
  });
}

void CountFolder::fold() {
  std::vector<std::int64_t> rooms;
  while (!order_.empty() && rooms.size() < kRoomsPerFold) {
    rooms.push_back(order_.front());
    order_.pop_front();
    waiting_.erase(rooms.back());
  }
  folding_ = true;
  db_.query(
      [rooms](pqxx::connection_base& c) {
        fold_counts(c, rooms);
        return true;
      },
      [this, life = std::weak_ptr<int>(alive_), rooms](db::Result<bool> r) {
        if (life.expired()) return;
        folding_ = false;
        if (!r) {  // counts stay exact meanwhile; only the scan above the watermark grows
          log::debug("archive", "folding message counts failed: {}", r.error());
          for (const std::int64_t id : rooms)
            stored(id);
        }
        arm();
      },
      db::QueryOptions{.idempotent = true});
}

}  // namespace salon::archive
