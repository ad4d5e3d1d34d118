// SPDX-License-Identifier: GPL-3.0-or-later
#include "journal/journal.hpp"

#include <stdexcept>

#include "core/log.hpp"
#include "core/metrics.hpp"

namespace salon::journal {
namespace {

using Clock = std::chrono::steady_clock;
std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// PostgreSQL was not there, or may have been: the batch is kept in the spool (idempotent on
// replay). A failed one is its own fault and would fail there too.
bool Journal::spoolable(db::WriteStatus s) {
  return s == db::WriteStatus::unreachable || s == db::WriteStatus::in_doubt;
}

// Splitting a failed batch into one job per message: what is left to hear back about.
struct Journal::Split {
  std::size_t remaining = 0;
  std::vector<std::size_t> unreachable;  // messages PostgreSQL was away for
  std::function<void(std::size_t, const db::WriteOutcome&)> each;
  std::function<void(std::vector<std::size_t>)> all;
};

Journal::Journal(boost::asio::io_context& loop, db::Database& db, Metrics& m,
                 const std::filesystem::path& spool_dir)
    : loop_(loop),
      db_(db),
      retry_(loop),
      batch_size_(m.histogram("salon_journal_batch_size", "Messages per write batch (one COMMIT)",
                              {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000})),
      commit_seconds_(
          m.histogram("salon_journal_commit_seconds", "From sending a write batch to its commit")),
      stored_(m.counter("salon_journal_messages_total",
                        "Messages whose rows are committed to PostgreSQL")),
      spooled_(m.counter("salon_journal_spooled_total",
                         "Messages written to the spool while PostgreSQL was unreachable")),
      failed_(m.counter("salon_journal_failed_total",
                        "Messages neither stored nor spooled (the sender got an error)")),
      dropped_rows_(m.counter("salon_journal_replay_dropped_rows_total",
                              "Spooled rows not replayed: their table is not registered (its "
                              "plugin is disabled) or they no longer decode")) {
  if (spool_dir.empty()) return;
  spool_ = std::make_unique<Spool>(
      loop, spool_dir,
      &m.counter("salon_journal_spool_corrupt_records_total",
                 "Spool records skipped on replay and copied to journal.spool.corrupt: bytes "
                 "that are not a whole record, or a message PostgreSQL refused"));
  std::weak_ptr<int> life = alive_;
  m.gauge_fn("salon_journal_spool_bytes", "Spooled bytes not yet replayed into PostgreSQL",
             [this, life] { return life.expired() ? 0.0 : static_cast<double>(spool_->bytes()); });
  m.gauge_fn("salon_journal_spool_oldest_seconds", "Age of the oldest spooled message",
             [this, life] {
               if (life.expired() || !oldest_spooled_us_) return 0.0;
               return static_cast<double>(now_us() - *oldest_spooled_us_) / 1e6;
             });
}

Journal::~Journal() {
  retry_.cancel();
  settle(dones_, false);
}

void Journal::add(std::unique_ptr<Table> table) {
  if (started_) throw std::logic_error("journal tables are added before start()");
  for (const auto& t : *tables_)
    if (t->name() == table->name())
      throw std::invalid_argument("journal table '" + table->name() + "' is registered twice");
  tables_->push_back(std::move(table));
}

void Journal::start() {
  started_ = true;
  spooling_ = spool_ && !spool_->empty();  // left over from the last run: replay it first
  if (spooling_) pump();
}

void Journal::submit(Commit commit, Done done) {
  if (commit.empty()) {
    if (done) done(true);
    return;
  }
  pending_.push_back(Message{std::move(commit).take(), now_us()});
  dones_.push_back(std::move(done));
  pump();
}

// One operation at a time keeps every table in reflection order: live messages first (their
// broadcast waits), then a replay step while the spool has messages.
void Journal::pump() {
  if (busy_ || !started_) return;
  if (!pending_.empty()) {
    auto batch = std::make_shared<const std::vector<Message>>(std::move(pending_));
    auto dones = std::make_shared<std::vector<Done>>(std::move(dones_));
    pending_.clear();
    dones_.clear();
    busy_ = true;
    if (spooling_) return spool(std::move(batch), std::move(dones));
    return insert(std::move(batch), std::move(dones));
  }
  if (!spooling_) return;
  if (Clock::now() >= next_replay_) return replay();
  retry_.expires_at(next_replay_);
  retry_.async_wait([this, life = std::weak_ptr<int>(alive_)](boost::system::error_code ec) {
    if (!ec && !life.expired()) pump();
  });
}

void Journal::idle() {
  busy_ = false;
  pump();
}

// Messages [first, first + count) of `batch`, each table's rows in one insert() call.
db::WriteJob Journal::job(Batch batch, std::size_t first, std::size_t count, Source source,
                          Marks marks) const {
  db::WriteJob job;
  job.run = [batch = std::move(batch), first, count, source, marks,
             tables = tables_](pqxx::dbtransaction& tx) {
    marks->assign(tables->size(), 0);
    std::vector<const Record*> rows;
    for (std::size_t t = 0; t < tables->size(); ++t) {
      Table* table = (*tables)[t].get();
      rows.clear();
      for (std::size_t i = first; i < first + count; ++i)
        for (const auto& r : (*batch)[i].rows)
          if (r->table == table) rows.push_back(r.get());
      if (!rows.empty()) (*marks)[t] = table->insert(tx, rows, source);
    }
  };
  return job;
}

void Journal::insert(Batch batch, Dones dones) {
  const auto t0 = Clock::now();
  auto marks = std::make_shared<std::vector<std::int64_t>>();  // written by the db thread
  db::WriteJob j = job(batch, 0, batch->size(), Source::live, marks);
  j.done = [this, life = std::weak_ptr<int>(alive_), batch, dones, marks, t0](db::WriteOutcome o) {
    if (life.expired()) return settle(*dones, o.ok());  // shutdown: committed ones may go out
    inserted(batch, dones, o, marks, t0);
  };
  db_.write(std::move(j));
}

void Journal::inserted(Batch batch, Dones dones, const db::WriteOutcome& o, const Marks& marks,
                       Clock::time_point t0) {
  commit_seconds_.observe(std::chrono::duration<double>(Clock::now() - t0).count());
  batch_size_.observe(static_cast<double>(batch->size()));
  if (o.ok()) {
    stored_.inc(batch->size());
    committed(*batch, 0, batch->size(), Source::live, *marks);
    // The next batch goes to PostgreSQL first: releasing this one broadcasts every message in
    // it, milliseconds of loop time that the database would otherwise sit idle through.
    busy_ = false;
    pump();
    return settle(*dones, true);
  }
  unsure(*batch);
  if (spool_ && spoolable(o.status)) {
    log::warn("journal", "PostgreSQL unreachable ({}): spooling to {}", o.error,
              spool_->path().string());
    return spool(std::move(batch), std::move(dones));  // still busy: the spool is next
  }
  if (o.status == db::WriteStatus::failed && batch->size() > 1) {
    log::warn("journal", "a batch of {} messages failed ({}): storing them one by one",
              batch->size(), o.error);
    auto each = [this, dones](std::size_t i, const db::WriteOutcome& one) {
      if (!one.ok()) failed_.inc();
      if ((*dones)[i]) std::exchange((*dones)[i], nullptr)(one.ok());
    };
    auto all = [this, batch, dones](std::vector<std::size_t> away) {
      if (away.empty() || !spool_) {
        for (std::size_t i : away)
          if ((*dones)[i]) std::exchange((*dones)[i], nullptr)(false);
        failed_.inc(spool_ ? 0 : away.size());
        return idle();
      }
      auto rest = std::make_shared<std::vector<SpooledMessage>>();
      auto rest_dones = std::make_shared<std::vector<Done>>();
      for (std::size_t i : away) {
        rest->push_back(encode((*batch)[i]));
        rest_dones->push_back(std::exchange((*dones)[i], nullptr));
      }
      spool(std::move(rest), std::move(rest_dones));
    };
    return split(std::move(batch), Source::live, std::move(each), std::move(all));
  }
  failed_.inc(batch->size());
  log::warn("journal", "storing {} message(s) failed ({}): {}", batch->size(),
            db::to_string(o.status), o.error);
  settle(*dones, false);
  idle();
}

// One job per message: the database writer runs them in one transaction all the same and
// isolates the one that fails. `each(i, stored)` in message order, then `all(unreachable)`.
void Journal::split(Batch batch, Source source,
                    std::function<void(std::size_t, const db::WriteOutcome&)> each,
                    std::function<void(std::vector<std::size_t>)> all) {
  auto state = std::make_shared<Split>();
  state->remaining = batch->size();
  state->each = std::move(each);
  state->all = std::move(all);
  for (std::size_t i = 0; i < batch->size(); ++i) {
    auto marks = std::make_shared<std::vector<std::int64_t>>();
    db::WriteJob j = job(batch, i, 1, source, marks);
    j.done = [this, life = std::weak_ptr<int>(alive_), batch, source, state, marks,
              i](db::WriteOutcome o) {
      if (life.expired()) return;
      if (o.ok()) {
        stored_.inc();
        committed(*batch, i, 1, source, *marks);
        state->each(i, o);
      } else if (spoolable(o.status)) {
        unsure(*batch);
        state->unreachable.push_back(i);
      } else {
        unsure(*batch);
        log::error("journal", "a message's rows failed: {}", o.error);
        state->each(i, o);
      }
      if (--state->remaining == 0) state->all(std::move(state->unreachable));
    };
    db_.write(std::move(j));
  }
}

void Journal::committed(const std::vector<Message>& batch, std::size_t first, std::size_t count,
                        Source source, const std::vector<std::int64_t>& marks) {
  std::vector<const Record*> rows;
  const Tables& tables = *tables_;
  for (std::size_t t = 0; t < tables.size(); ++t) {
    rows.clear();
    for (std::size_t i = first; i < first + count; ++i)
      for (const auto& r : batch[i].rows)
        if (r->table == tables[t].get()) rows.push_back(r.get());
    if (!rows.empty()) tables[t]->committed(rows, source, t < marks.size() ? marks[t] : 0);
  }
}

void Journal::unsure(const std::vector<Message>& batch) {
  for (const auto& t : *tables_) {
    const bool has = std::any_of(batch.begin(), batch.end(), [&](const Message& m) {
      return std::any_of(m.rows.begin(), m.rows.end(),
                         [&](const auto& r) { return r->table == t.get(); });
    });
    if (has) t->unsure();
  }
}

SpooledMessage Journal::encode(const Message& m) const {
  SpooledMessage out;
  out.at_us = m.at_us;
  for (const auto& r : m.rows)
    out.parts.push_back({r->table->name(), r->table->encode(*r)});
  return out;
}

void Journal::spool(Batch batch, Dones dones) {
  auto messages = std::make_shared<std::vector<SpooledMessage>>();
  messages->reserve(batch->size());
  for (const Message& m : *batch)
    messages->push_back(encode(m));
  spool(std::move(messages), std::move(dones));
}

void Journal::spool(std::shared_ptr<std::vector<SpooledMessage>> messages, Dones dones) {
  const std::size_t n = messages->size();
  const std::int64_t first_at = messages->front().at_us;
  spool_->append(std::move(messages),
                 [this, life = std::weak_ptr<int>(alive_), n, first_at, dones](std::string error) {
                   if (!error.empty()) {
                     log::error("journal", "spooling {} message(s) failed: {}", n, error);
                     if (!life.expired()) failed_.inc(n);
                   }
                   settle(*dones, error.empty());
                   if (life.expired()) return;
                   if (error.empty()) {
                     spooled_.inc(n);
                     if (!spooling_ || !oldest_spooled_us_) oldest_spooled_us_ = first_at;
                     spooling_ = true;
                   }
                   idle();
                 });
}

void Journal::settle(std::vector<Done>& dones, bool durable) {
  for (auto& d : dones)
    if (d) std::exchange(d, nullptr)(durable);
}

}  // namespace salon::journal
