// SPDX-License-Identifier: GPL-3.0-or-later
// Keeps archive_counts close to the archive off the write path (schemas/005): the writer
// reports which rooms got rows, and every second one query on a reader connection folds the
// new rows of up to kRoomsPerFold of them (those waiting longest) into their counts. A MAM
// count is exact either way (it adds the rows above the watermark); folding keeps that part of
// it a short index scan. Folding a few rooms often spreads the work (counting fresh rows
// visits the heap): folding every room every 5 s made 150 ms bursts that showed in the
// reflection latency's p99 under load.
#pragma once

#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_set>
#include <vector>

namespace salon::db {
class Database;
}

namespace salon::archive {

class CountFolder {
public:
  CountFolder(boost::asio::io_context& loop, db::Database& db);
  ~CountFolder();
  CountFolder(const CountFolder&) = delete;
  CountFolder& operator=(const CountFolder&) = delete;

  // Loop thread: rows of this room were committed.
  void stored(std::int64_t room_id);

private:
  void arm();
  void fold();

  db::Database& db_;
  boost::asio::steady_timer timer_;
  std::unordered_set<std::int64_t> waiting_;  // rooms with rows not folded yet
  std::deque<std::int64_t> order_;            // the same rooms, first stored first
  bool armed_ = false;
  bool folding_ = false;  // one fold at a time: they would queue behind each other's lock
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace salon::archive
