// SPDX-License-Identifier: GPL-3.0-or-later
// The journal's replay: spooled messages go back into PostgreSQL in order, a chunk per batch.
#include <algorithm>

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "journal/journal.hpp"

namespace salon::journal {
namespace {
constexpr auto kReplayRetry = std::chrono::milliseconds(500);
constexpr std::size_t kReplayMessages = 1000;
}  // namespace

// Copies the next spooled messages into PostgreSQL; once the spool is drained, live messages
// go straight to PostgreSQL again.
void Journal::replay() {
  busy_ = true;
  spool_->read(kReplayMessages,
               [this, life = std::weak_ptr<int>(alive_)](std::vector<SpooledMessage> spooled,
                                                         std::uint64_t end, std::string error) {
                 if (life.expired()) return;
                 if (!error.empty()) return replay_failed(error);
                 if (spooled.empty()) return consume(end, true);
                 replay_batch(std::move(spooled), end);
               });
}

// A row of a table nobody registered (its plugin was disabled since) or that no longer decodes
// is dropped, counted and named in the log; the message's other rows are replayed.
Journal::Message Journal::decode(const SpooledMessage& spooled, std::vector<std::string>& dropped) {
  Message m;
  m.at_us = spooled.at_us;
  for (const Part& part : spooled.parts) {
    const auto t = std::find_if(tables_->begin(), tables_->end(),
                                [&](const auto& table) { return table->name() == part.table; });
    std::unique_ptr<Record> row = t == tables_->end() ? nullptr : (*t)->decode(part.row);
    if (row) {
      m.rows.push_back(std::move(row));
    } else {
      dropped_rows_.inc();
      if (std::find(dropped.begin(), dropped.end(), part.table) == dropped.end())
        dropped.push_back(part.table);
    }
  }
  return m;
}

void Journal::replay_batch(std::vector<SpooledMessage> spooled, std::uint64_t end) {
  oldest_spooled_us_ = spooled.front().at_us;
  auto batch = std::make_shared<std::vector<Message>>();
  auto originals = std::make_shared<std::vector<SpooledMessage>>();
  std::vector<std::string> dropped;
  for (auto& s : spooled) {
    Message m = decode(s, dropped);
    if (m.rows.empty()) continue;
    batch->push_back(std::move(m));
    originals->push_back(std::move(s));
  }
  for (const auto& table : dropped)
    log::error("journal",
               "spooled rows of table '{}' dropped on replay: no such table is registered, or "
               "its rows no longer decode",
               table);
  if (batch->empty()) return consume(end);
  const Batch b = batch;
  auto marks = std::make_shared<std::vector<std::int64_t>>();
  db::WriteJob j = job(b, 0, b->size(), Source::replayed, marks);
  j.done = [this, life = std::weak_ptr<int>(alive_), b, originals, marks, end](db::WriteOutcome o) {
    if (life.expired()) return;
    if (o.ok()) {
      stored_.inc(b->size());
      committed(*b, 0, b->size(), Source::replayed, *marks);
      return consume(end);
    }
    unsure(*b);
    if (spoolable(o.status)) return replay_failed(o.error);
    // PostgreSQL refuses something in this chunk: find the message, set it aside, go on.
    auto each = [this, originals](std::size_t i, const db::WriteOutcome& one) {
      if (!one.ok()) spool_->set_aside((*originals)[i], one.error);
    };
    auto all = [this, end](const std::vector<std::size_t>& away) {
      if (!away.empty()) return replay_failed("PostgreSQL went away during the replay");
      consume(end);
    };
    split(b, Source::replayed, std::move(each), std::move(all));
  };
  db_.write(std::move(j));
}

// The messages up to `end` are stored (or were bad bytes, set aside): past them. Only an
// empty spool ends the replay: believing it drained while records remain would leave every
// later spooled message out of PostgreSQL.
void Journal::consume(std::uint64_t end, bool pause) {
  spool_->consumed(end, [this, life = std::weak_ptr<int>(alive_), pause](std::string e) {
    if (life.expired()) return;
    if (!e.empty()) return replay_failed(e);
    if (spool_->empty()) {
      log::info("journal", "spool replayed into PostgreSQL");
      spooling_ = false;
      oldest_spooled_us_.reset();
    } else if (pause) {
      next_replay_ = std::chrono::steady_clock::now() + kReplayRetry;  // bounds a skip loop
    }
    idle();
  });
}

void Journal::replay_failed(const std::string& error) {
  log::debug("journal", "spool replay postponed: {}", error);  // every 500 ms
  next_replay_ = std::chrono::steady_clock::now() + kReplayRetry;
  idle();
}

}  // namespace salon::journal
