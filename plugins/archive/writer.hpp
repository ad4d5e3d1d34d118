// SPDX-License-Identifier: GPL-3.0-or-later
// The durable write path, loop side. Each archived message brings the hold on its broadcast;
// rows wait here while one batch is in flight and then go together as the next batch (one
// COPY and one COMMIT on the database writer thread: group commit). A hold is
// released when its row is durable: committed to PostgreSQL, or — when PostgreSQL is
// unreachable and a spool is configured — fsync'd to the spool, whose rows are replayed into
// PostgreSQL in order once it is back (live rows go to the spool until it is drained, so the
// archive keeps the reflection order). Without a spool, or if the spool fails too, the holds
// fail and each sender gets an error instead of a silent loss.
#pragma once

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "fold.hpp"
#include "plugin/plugin.hpp"
#include "spool.hpp"
#include "store.hpp"

namespace salon {
class Counter;
class Histogram;
}  // namespace salon

namespace salon::archive {

class Writer {
public:
  // What waits for a row to be durable: a message's broadcast hold, or a callback (stanzas the
  // archive itself originates are sent only once stored). Either may be empty.
  struct Waiter {
    std::optional<plugin::BroadcastHold> hold;
    std::function<void(bool durable)> done;
  };
  using Holds = std::vector<Waiter>;

  // `spool` may be null (no spool configured).
  Writer(boost::asio::io_context& loop, db::Database& db, Metrics& metrics,
         std::unique_ptr<Spool> spool);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Loop thread. `hold` may be empty (a row whose broadcast is not held).
  void add(Row row, std::optional<plugin::BroadcastHold> hold);
  // Loop thread. `done(durable)` runs on the loop once the row is stored (or spooled).
  void add(Row row, std::function<void(bool durable)> done);

private:
  using Rows = std::shared_ptr<const std::vector<Row>>;
  using HoldsPtr = std::shared_ptr<Holds>;

  void pump();
  void insert(Rows rows, HoldsPtr holds);
  void inserted(Rows rows, HoldsPtr holds, bool ok, const std::string& error, std::int64_t last_id,
                std::chrono::steady_clock::time_point t0);
  void spool(Rows rows, HoldsPtr holds);
  void replay();
  void skipped(std::uint64_t end);
  void replay_failed(const std::string& error);
  void idle();
  static void settle(Holds& holds, bool ok);
  void stored(const std::vector<Row>& rows, std::int64_t last_id, Source source);
  void unsure();

  boost::asio::io_context& loop_;
  db::Database& db_;
  std::unique_ptr<Spool> spool_;
  CountFolder folder_;
  boost::asio::steady_timer retry_;
  Histogram& batch_size_;
  Histogram& commit_seconds_;
  Counter& archived_;
  Counter& spooled_;
  Counter& failed_;
  std::vector<Row> rows_;
  Holds holds_;
  bool busy_ = false;      // a batch, a spool append or a replay step is in flight
  bool spooling_ = false;  // the spool holds rows not yet in PostgreSQL
  std::chrono::steady_clock::time_point next_replay_{};
  std::optional<std::int64_t> oldest_spooled_us_;
  // The archive id sequence after the last batch known to be committed; -1 when unknown (at
  // start, or after a batch whose outcome is not known): see CountFolder.
  std::int64_t last_id_ = -1;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace salon::archive
