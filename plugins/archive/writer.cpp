// SPDX-License-Identifier: GPL-3.0-or-later
#include "writer.hpp"

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "db/database.hpp"

namespace salon::archive {

Writer::Writer(db::Database& db, Metrics& m)
    : db_(db),
      batch_size_(m.histogram("salon_archive_batch_size", "Messages per archive batch (one COMMIT)",
                              {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000})),
      commit_seconds_(m.histogram("salon_archive_commit_seconds",
                                  "From sending an archive batch to its commit")),
      archived_(m.counter("salon_archive_messages_total", "Messages durably archived")),
      failed_(m.counter("salon_archive_failed_total",
                        "Messages whose archive write failed (the sender got an error)")) {}

Writer::~Writer() = default;

void Writer::settle(std::vector<std::optional<plugin::BroadcastHold>>& holds, bool ok) {
  for (auto& h : holds) {
    if (!h) continue;
    if (ok) {
      h->release();
    } else {
      StanzaError e = errors::internal_server_error("the message could not be archived");
      e.type = ErrorType::wait;  // PostgreSQL may be back soon: the sender may resend
      h->fail(std::move(e));
    }
  }
}

void Writer::add(Row row, std::optional<plugin::BroadcastHold> hold) {
  rows_.push_back(std::move(row));
  holds_.push_back(std::move(hold));
  if (!in_flight_) flush();
}

void Writer::flush() {
  if (rows_.empty()) return;
  in_flight_ = true;
  auto rows = std::make_shared<const std::vector<Row>>(std::move(rows_));
  auto holds =
      std::make_shared<std::vector<std::optional<plugin::BroadcastHold>>>(std::move(holds_));
  rows_.clear();
  holds_.clear();
  const auto t0 = std::chrono::steady_clock::now();
  db::WriteJob job;
  job.run = [rows](pqxx::dbtransaction& tx) { insert_rows(tx, *rows); };
  job.done = [this, life = std::weak_ptr<int>(alive_), holds, n = rows->size(), t0](
                 bool ok, std::string error) {
    // Committed rows are released even when the writer is gone (shutdown): what is stored
    // may be reflected.
    settle(*holds, ok);
    if (!life.expired()) committed(n, ok, error, t0);
  };
  db_.write(std::move(job));
}

void Writer::committed(std::size_t n, bool ok, const std::string& error,
                       std::chrono::steady_clock::time_point t0) {
  in_flight_ = false;
  commit_seconds_.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  batch_size_.observe(static_cast<double>(n));
  if (ok) {
    archived_.inc(n);
  } else {
    failed_.inc(n);
    log::warn("archive", "archiving {} message(s) failed: {}", n, error);
  }
  flush();
}

}  // namespace salon::archive
