// SPDX-License-Identifier: GPL-3.0-or-later
#include "writer.hpp"

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "db/database.hpp"

namespace salon::archive {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kReplayRetry = std::chrono::milliseconds(500);
constexpr std::size_t kReplayRows = 1000;

// The database writer's words for "PostgreSQL could not be reached" (server/db/writer.cpp):
// only those go to the spool; any other failure is the row's own and would fail again.
bool unreachable(const std::string& error) {
  return error.starts_with("PostgreSQL ");
}

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Writer::Writer(boost::asio::io_context& loop, db::Database& db, Metrics& m,
               std::unique_ptr<Spool> spool)
    : loop_(loop),
      db_(db),
      spool_(std::move(spool)),
      folder_(loop, db,
              m.counter("salon_archive_fold_failures_total",
                        "Folds of message counts into archive_counts that failed (retried)")),
      retry_(loop),
      batch_size_(m.histogram("salon_archive_batch_size", "Messages per archive batch (one COMMIT)",
                              {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000})),
      commit_seconds_(m.histogram("salon_archive_commit_seconds",
                                  "From sending an archive batch to its commit")),
      archived_(m.counter("salon_archive_messages_total", "Messages committed to the archive")),
      spooled_(m.counter("salon_archive_spooled_total",
                         "Messages written to the spool while PostgreSQL was unreachable")),
      failed_(m.counter("salon_archive_failed_total",
                        "Messages neither archived nor spooled (the sender got an error)")) {
  if (!spool_) return;
  spooling_ = !spool_->empty();  // left over from the last run: replay it first
  std::weak_ptr<int> life = alive_;
  m.gauge_fn("salon_archive_spool_bytes", "Spooled bytes not yet replayed into PostgreSQL",
             [this, life] { return life.expired() ? 0.0 : static_cast<double>(spool_->bytes()); });
  m.gauge_fn("salon_archive_spool_oldest_seconds", "Age of the oldest spooled message",
             [this, life] {
               if (life.expired() || !oldest_spooled_us_) return 0.0;
               return static_cast<double>(now_us() - *oldest_spooled_us_) / 1e6;
             });
  if (spooling_) pump();
}

Writer::~Writer() {
  retry_.cancel();
}

void Writer::add(Row row, std::optional<plugin::BroadcastHold> hold) {
  rows_.push_back(std::move(row));
  holds_.push_back(Waiter{std::move(hold), {}});
  pump();
}

void Writer::add(Row row, std::function<void(bool durable)> done) {
  rows_.push_back(std::move(row));
  holds_.push_back(Waiter{std::nullopt, std::move(done)});
  pump();
}

// One operation at a time keeps the archive in reflection order: live rows first (their
// broadcast waits), then a replay step while the spool has rows.
void Writer::pump() {
  if (busy_) return;
  if (!rows_.empty()) {
    auto rows = std::make_shared<const std::vector<Row>>(std::move(rows_));
    auto holds = std::make_shared<Holds>(std::move(holds_));
    rows_.clear();
    holds_.clear();
    busy_ = true;
    if (spooling_) return spool(std::move(rows), std::move(holds));
    return insert(std::move(rows), std::move(holds));
  }
  if (!spooling_) return;
  if (Clock::now() >= next_replay_) return replay();
  retry_.expires_at(next_replay_);
  retry_.async_wait([this, life = std::weak_ptr<int>(alive_)](boost::system::error_code ec) {
    if (!ec && !life.expired()) pump();
  });
}

void Writer::idle() {
  busy_ = false;
  pump();
}

void Writer::insert(Rows rows, HoldsPtr holds) {
  const auto t0 = Clock::now();
  // Written on the database thread before `done` is posted to the loop.
  auto last_id = std::make_shared<std::int64_t>(-1);
  db::WriteJob job;
  job.run = [rows, last_id](pqxx::dbtransaction& tx) {
    *last_id = insert_rows(tx, *rows, Source::live);
  };
  job.done = [this, life = std::weak_ptr<int>(alive_), rows, holds, last_id, t0](
                 bool ok, std::string error) {
    if (life.expired()) return settle(*holds, ok);  // shutdown: committed rows may go out
    inserted(rows, holds, ok, error, *last_id, t0);
  };
  db_.write(std::move(job));
}

void Writer::inserted(Rows rows, HoldsPtr holds, bool ok, const std::string& error,
                      std::int64_t last_id, Clock::time_point t0) {
  commit_seconds_.observe(std::chrono::duration<double>(Clock::now() - t0).count());
  batch_size_.observe(static_cast<double>(rows->size()));
  if (ok) {
    archived_.inc(rows->size());
    stored(*rows, last_id, Source::live);
    // The next batch goes to PostgreSQL first: releasing this one broadcasts every message in
    // it, milliseconds of loop time that the database would otherwise sit idle through.
    busy_ = false;
    pump();
    return settle(*holds, true);
  }
  unsure();
  if (spool_ && unreachable(error)) {
    log::warn("archive", "PostgreSQL unreachable ({}): spooling to {}", error,
              spool_->path().string());
    return spool(std::move(rows), std::move(holds));  // still busy: the spool is next
  }
  failed_.inc(rows->size());
  log::warn("archive", "archiving {} message(s) failed: {}", rows->size(), error);
  settle(*holds, false);
  idle();
}

void Writer::spool(Rows rows, HoldsPtr holds) {
  spool_->append(rows, [this, life = std::weak_ptr<int>(alive_), rows, holds](std::string error) {
    if (!error.empty()) {
      log::error("archive", "spooling {} message(s) failed: {}", rows->size(), error);
      if (!life.expired()) failed_.inc(rows->size());
      settle(*holds, false);
    } else {
      settle(*holds, true);
    }
    if (life.expired()) return;
    if (error.empty()) {
      spooled_.inc(rows->size());
      if (!spooling_ || !oldest_spooled_us_) oldest_spooled_us_ = rows->front().ts_us;
      spooling_ = true;
    }
    idle();
  });
}

// Copies the next spooled rows into PostgreSQL; once the spool is drained, live rows go
// straight to PostgreSQL again.
void Writer::replay() {
  busy_ = true;
  spool_->read(kReplayRows, [this, life = std::weak_ptr<int>(alive_)](
                                std::vector<Row> rows, std::uint64_t end, std::string error) {
    if (life.expired()) return;
    if (!error.empty()) return replay_failed(error);
    if (rows.empty()) return skipped(end);
    oldest_spooled_us_ = rows.front().ts_us;
    auto batch = std::make_shared<const std::vector<Row>>(std::move(rows));
    auto last_id = std::make_shared<std::int64_t>(-1);
    db::WriteJob job;
    job.run = [batch, last_id](pqxx::dbtransaction& tx) {
      *last_id = insert_rows(tx, *batch, Source::replayed);
    };
    job.done = [this, life, batch, last_id, end](bool ok, std::string err) {
      if (life.expired()) return;
      if (!ok) {
        unsure();
        return replay_failed(err);
      }
      archived_.inc(batch->size());
      stored(*batch, *last_id, Source::replayed);
      spool_->consumed(end, [this, life](std::string e) {
        if (life.expired()) return;
        if (!e.empty()) return replay_failed(e);
        idle();
      });
    };
    db_.write(std::move(job));
  });
}

// No rows up to `end`: the spool is drained, or it skipped bad bytes (and said so) and more
// records may follow them. Only an empty spool ends the replay: believing it drained while
// records remain would leave every later spooled message out of the archive.
void Writer::skipped(std::uint64_t end) {
  spool_->consumed(end, [this, life = std::weak_ptr<int>(alive_)](std::string e) {
    if (life.expired()) return;
    if (!e.empty()) return replay_failed(e);
    if (spool_->empty()) {
      log::info("archive", "spool replayed into PostgreSQL");
      spooling_ = false;
      oldest_spooled_us_.reset();
    } else {
      next_replay_ = Clock::now() + kReplayRetry;  // the spool always moves on; this bounds it
    }
    idle();
  });
}

void Writer::replay_failed(const std::string& error) {
  log::debug("archive", "spool replay postponed: {}", error);
  next_replay_ = Clock::now() + kReplayRetry;
  idle();
}

// Replayed rows may have been stored before (ON CONFLICT DO NOTHING skipped them): the folder
// gets no claim about how many of them the range holds.
void Writer::stored(const std::vector<Row>& rows, std::int64_t last_id, Source source) {
  folder_.committed(rows, source == Source::live ? last_id_ : -1, last_id);
  last_id_ = last_id;
}

void Writer::unsure() {
  last_id_ = -1;
  folder_.failed();
}

void Writer::settle(Holds& holds, bool ok) {
  for (auto& w : holds) {
    if (w.done) w.done(ok);
    if (!w.hold) continue;
    if (ok) {
      w.hold->release();
    } else {
      StanzaError e = errors::internal_server_error("the message could not be archived");
      e.type = ErrorType::wait;  // PostgreSQL may be back soon: the sender may resend
      w.hold->fail(std::move(e));
    }
  }
}

}  // namespace salon::archive
