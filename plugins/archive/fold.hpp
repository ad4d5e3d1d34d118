// SPDX-License-Identifier: GPL-3.0-or-later
// Keeps archive_counts close to the archive off the write path (schemas/005). The archive's
// journal table reports each committed batch: its rows' rooms and the id range it used. CountFolder
// tallies them per room and, every second, one statement on a reader connection adds the tallies to
// the counts (fold_tallies) without reading the rows: counting fresh rows in the table (no
// visibility bits yet: a heap visit each) cost PostgreSQL ~10% of a core at 30,000 messages/s
// and showed in the reflection latency's p99. A MAM count is exact either way (it adds the
// rows above the watermark); folding keeps that part of it a short index scan.
#pragma once

#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <memory>
#include <vector>

#include "store.hpp"

namespace salon {
class Counter;
}
namespace salon::db {
class Database;
}

namespace salon::archive {

// Adds a committed batch to `into`: `rows` have ids in (after, upto], and with after >= 0 they
// are all the rows the archive got in that range. after < 0: no such claim (see Tally).
void tally(Tallies& into, RowRefs rows, std::int64_t after, std::int64_t upto);
inline void tally(Tallies& into, const std::vector<Row>& rows, std::int64_t after,
                  std::int64_t upto) {
  tally(into, refs(rows), after, upto);
}
// Puts tallies whose fold failed back under newer ones: together they claim the union.
void merge(Tallies& into, const Tallies& older);
// After a batch whose outcome is unknown (it may have committed): its rows may sit inside
// any claim's range uncounted, so no claim holds any more.
void drop_claims(Tallies& tallies);

class CountFolder {
public:
  // `failures` counts folds that failed (they are retried; counts stay exact meanwhile).
  CountFolder(boost::asio::io_context& loop, db::Database& db, Counter& failures);
  ~CountFolder();
  CountFolder(const CountFolder&) = delete;
  CountFolder& operator=(const CountFolder&) = delete;

  // Loop thread: a batch was committed (see tally()).
  void committed(RowRefs rows, std::int64_t after, std::int64_t upto);
  // Loop thread: a batch failed; it may have been committed all the same.
  void failed();

private:
  void arm();
  void fold();

  db::Database& db_;
  Counter& failures_;
  boost::asio::steady_timer timer_;
  Tallies tallies_;
  bool armed_ = false;
  bool folding_ = false;  // one fold at a time: they would queue behind each other's lock
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace salon::archive
