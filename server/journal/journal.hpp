// SPDX-License-Identifier: GPL-3.0-or-later
// The durable write path (issue 13/17): every message's rows, of every plugin's table, reach
// PostgreSQL in one transaction with the other messages queued meanwhile (group commit), or —
// when PostgreSQL is unreachable and [database] spool_dir is set — the spool, fsync'd, to be
// replayed into PostgreSQL in order once it is back (live messages go to the spool while it
// holds anything, so the tables keep the reflection order).
//
//   plugin: on_message_commit(ev, commit) → commit.add(table, row)   (loop thread)
//   core:   one hold on the broadcast per non-empty commit → Journal::submit(commit, done)
//   journal: one batch in flight; the messages queued meanwhile are the next batch: one
//            db::WriteJob, each table's rows inserted together (a COPY for the archive)
//
// A message's rows are all or nothing: a batch that fails (not for want of PostgreSQL) is
// retried one message per job, so one bad message fails alone, never one table of a message.
// `done(true)` means durable (committed or spooled); `done(false)`: neither, and the sender
// gets an error. Loop thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "db/database.hpp"
#include "journal/spool.hpp"
#include "journal/table.hpp"

namespace salon {
class Counter;
class Histogram;
class Metrics;
}  // namespace salon

namespace salon::journal {

class Journal {
public:
  using Done = std::function<void(bool durable)>;

  // `spool_dir` empty: no spool (a write that finds PostgreSQL away fails). Throws
  // std::runtime_error when the spool directory cannot be made.
  Journal(boost::asio::io_context& loop, db::Database& db, Metrics& metrics,
          const std::filesystem::path& spool_dir);
  ~Journal();  // messages not yet committed fail (their done(false) runs)
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Before start() (plugins register at their start). Names are unique (std::invalid_argument
  // otherwise). Within a batch, tables are inserted in the order they were added.
  template <typename T, typename... Args>
  T& add_table(Args&&... args) {
    auto t = std::make_unique<T>(std::forward<Args>(args)...);
    T& ref = *t;
    add(std::move(t));
    return ref;
  }
  // Every table is known: a spool left by the last run is replayed from now on.
  void start();

  // An empty commit is durable at once.
  void submit(Commit commit, Done done);

  [[nodiscard]] bool spooling() const { return spooling_; }
  [[nodiscard]] std::size_t queued() const { return pending_.size(); }

private:
  struct Message {
    std::vector<std::unique_ptr<Record>> rows;
    std::int64_t at_us = 0;
  };
  using Batch = std::shared_ptr<const std::vector<Message>>;
  using Dones = std::shared_ptr<std::vector<Done>>;
  using Marks = std::shared_ptr<std::vector<std::int64_t>>;  // one per table
  struct Split;

  void add(std::unique_ptr<Table> table);
  void pump();
  void idle();
  db::WriteJob job(Batch batch, std::size_t first, std::size_t count, Source source,
                   Marks marks) const;
  void insert(Batch batch, Dones dones);
  void inserted(Batch batch, Dones dones, const db::WriteOutcome& o, const Marks& marks,
                std::chrono::steady_clock::time_point t0);
  void split(Batch batch, Source source,
             std::function<void(std::size_t, const db::WriteOutcome&)> each,
             std::function<void(std::vector<std::size_t> unreachable)> all);
  void committed(const std::vector<Message>& batch, std::size_t first, std::size_t count,
                 Source source, const std::vector<std::int64_t>& marks);
  void unsure(const std::vector<Message>& batch);
  void spool(Batch batch, Dones dones);
  void spool(std::shared_ptr<std::vector<SpooledMessage>> messages, Dones dones);
  void replay();
  void replay_batch(std::vector<SpooledMessage> spooled, std::uint64_t end);
  // `pause`: nothing was stored (only bad bytes were skipped): wait before the next step.
  void consume(std::uint64_t end, bool pause = false);
  static bool spoolable(db::WriteStatus s);
  void replay_failed(const std::string& error);
  [[nodiscard]] Message decode(const SpooledMessage& m, std::vector<std::string>& dropped);
  [[nodiscard]] SpooledMessage encode(const Message& m) const;
  static void settle(std::vector<Done>& dones, bool durable);

  boost::asio::io_context& loop_;
  db::Database& db_;
  std::unique_ptr<Spool> spool_;
  // Shared with queued jobs: a job the database runs after this journal is gone still finds
  // its tables.
  using Tables = std::vector<std::unique_ptr<Table>>;
  std::shared_ptr<Tables> tables_ = std::make_shared<Tables>();
  boost::asio::steady_timer retry_;
  Histogram& batch_size_;
  Histogram& commit_seconds_;
  Counter& stored_;
  Counter& spooled_;
  Counter& failed_;
  Counter& dropped_rows_;
  std::vector<Message> pending_;
  std::vector<Done> dones_;
  bool started_ = false;
  bool busy_ = false;      // a batch, a spool append or a replay step is in flight
  bool spooling_ = false;  // the spool holds messages not yet in PostgreSQL
  std::chrono::steady_clock::time_point next_replay_{};
  std::optional<std::int64_t> oldest_spooled_us_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace salon::journal
