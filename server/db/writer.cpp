// SPDX-License-Identifier: GPL-3.0-or-later
// The writer thread: migrations first, then durable writes with group commit. Everything
// queued when the writer becomes free (up to max_batch) runs in one transaction and one COMMIT,
// so N concurrent writes cost one fsync instead of N. A job that throws is isolated: the jobs
// before it commit together, it is run again alone (it may have failed only because of the
// batch), and the rest go on in a new batch; completions keep queue order throughout.
#include <pqxx/except>
#include <pqxx/transaction>

#include <span>

#include "core/log.hpp"
#include "db/engine.hpp"
#include "db/link.hpp"

namespace salon::db::detail {
namespace {

using Clock = std::chrono::steady_clock;

struct Outcome {
  enum Kind { committed, job_failed, commit_failed, connection_lost, in_doubt } kind;
  std::size_t index = 0;  // job_failed: which job, relative to the batch
  std::string error;
};

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

Outcome try_batch(Engine& e, pqxx::connection_base& conn, std::span<PendingWrite> jobs) {
  try {
    pqxx::work tx(conn, "salon_batch");
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      try {
        jobs[i].job.run(tx);
      } catch (const pqxx::broken_connection&) {
        throw;
      } catch (const std::exception& ex) {
        if (!conn.is_open()) throw pqxx::broken_connection(ex.what());
        return {Outcome::job_failed, i, trimmed(ex.what())};
      } catch (...) {
        return {Outcome::job_failed, i, "write job threw a non-standard exception"};
      }
    }
    const auto start = Clock::now();
    try {
      tx.commit();
    } catch (const pqxx::in_doubt_error&) {
      throw;
    } catch (const pqxx::broken_connection&) {
      throw;
    } catch (const std::exception& ex) {  // deferred constraint, serialization failure, ...
      if (!conn.is_open()) throw pqxx::broken_connection(ex.what());
      return {Outcome::commit_failed, 0, trimmed(ex.what())};
    }
    e.metrics.commit_duration.observe(seconds_since(start));
    e.metrics.batch_size.observe(static_cast<double>(jobs.size()));
    return {Outcome::committed, 0, {}};
  } catch (const pqxx::in_doubt_error& ex) {
    return {Outcome::in_doubt, 0, trimmed(ex.what())};
  } catch (const pqxx::broken_connection& ex) {
    return {Outcome::connection_lost, 0, trimmed(ex.what())};
  } catch (const std::exception& ex) {  // BEGIN itself failed
    if (!conn.is_open()) return {Outcome::connection_lost, 0, trimmed(ex.what())};
    return {Outcome::commit_failed, 0, trimmed(ex.what())};
  }
}

// Runs one batch taken from the queue, settling every job exactly once, in order.
class BatchRunner {
public:
  BatchRunner(Engine& e, Link& link, std::vector<PendingWrite>& jobs)
      : e_(e), link_(link), jobs_(jobs) {}

  void run(std::size_t begin, std::size_t end) {
    while (begin < end) {
      pqxx::connection_base* conn = link_.get();
      if (!conn)
        return fail(begin, end,
                    {WriteStatus::unreachable, "PostgreSQL unavailable: " + link_.last_error()});
      const Outcome o = try_batch(e_, *conn, std::span(jobs_).subspan(begin, end - begin));
      switch (o.kind) {
        case Outcome::committed:
          for (std::size_t i = begin; i < end; ++i)
            settle(i, {});
          return;
        case Outcome::job_failed: {
          const std::size_t bad = begin + o.index;
          if (bad == begin) {  // it ran first in a fresh transaction: the failure is its own
            settle(bad, {WriteStatus::failed, o.error});
          } else {
            run(begin, bad);
            run(bad, bad + 1);
          }
          begin = bad + 1;
          break;
        }
        case Outcome::commit_failed:
          if (end - begin == 1) return settle(begin, {WriteStatus::failed, o.error});
          for (std::size_t i = begin; i < end; ++i)
            run(i, i + 1);
          return;
        case Outcome::connection_lost:
          link_.drop();
          if (!reconnected_) {  // a restarted server or a killed backend: one fresh try
            reconnected_ = true;
            if (link_.reconnect_now()) break;
          }
          return fail(begin, end,
                      {WriteStatus::unreachable, "PostgreSQL connection lost: " + o.error});
        case Outcome::in_doubt:
          link_.drop();
          return fail(begin, end,
                      {WriteStatus::in_doubt,
                       "PostgreSQL connection lost during COMMIT, the write may or may not be "
                       "stored: " +
                           o.error});
      }
    }
  }

  void fail_all(const WriteOutcome& outcome) { fail(0, jobs_.size(), outcome); }

private:
  void fail(std::size_t begin, std::size_t end, const WriteOutcome& outcome) {
    for (std::size_t i = begin; i < end; ++i)
      settle(i, outcome);
  }

  void settle(std::size_t i, WriteOutcome outcome) {
    PendingWrite& w = jobs_[i];
    e_.metrics.write_latency.observe(seconds_since(w.queued));
    if (!outcome.ok()) {
      e_.metrics.write_errors.inc();
      log::debug("db", "write {}: {}", to_string(outcome.status), outcome.error);
    }
    if (w.job.done)
      e_.post([done = std::move(w.job.done), outcome = std::move(outcome)] { done(outcome); });
  }

  Engine& e_;
  Link& link_;
  std::vector<PendingWrite>& jobs_;
  bool reconnected_ = false;
};

// Applies the schema files once a connection is there. False while that has not happened.
bool migrate(Engine& e, Link& link) {
  MigrationResult result;
  // Bad file names are fatal whether or not PostgreSQL is up: report them without waiting.
  if (MigrationListing listing = list_migrations(*e.options.schema_dir); !listing.error.empty()) {
    result.status = MigrationStatus::bad_files;
    result.error = listing.error;
  } else {
    pqxx::connection_base* conn = link.get();
    if (!conn) return false;
    result = run_migrations(*conn, *e.options.schema_dir);
  }
  if (result.status == MigrationStatus::unavailable) {
    log::debug("db", "migrations postponed: {}", result.error);
    link.drop();
    return false;
  }
  if (result.ok()) {
    log::info("db", "schema at version {} ({} migration(s) applied)", result.to_version,
              result.applied.size());
    e.schema.store(SchemaState::ready, std::memory_order_release);
  } else {
    log::error("db", "{}", result.error);
    e.schema_error = "schema migration failed: " + result.error;
    e.schema.store(SchemaState::failed, std::memory_order_release);
  }
  e.post_migrations(std::move(result));
  return true;
}

WriteOutcome unwritable(const Engine& e, const Link& link) {
  if (e.schema.load(std::memory_order_acquire) == SchemaState::failed)
    return {WriteStatus::failed, e.schema_error};
  return {WriteStatus::unreachable, "PostgreSQL unavailable: " + link.last_error()};
}

std::vector<PendingWrite> take_batch(Engine& e, Link& link, bool& stopping) {
  std::unique_lock lock(e.mutex);
  const auto ready = [&] { return e.stopping || !e.writes.empty(); };
  const bool need_link =
      !link.connected() && e.schema.load(std::memory_order_acquire) != SchemaState::failed;
  if (!need_link)
    e.writer_cv.wait(lock, ready);
  else
    e.writer_cv.wait_until(lock, link.next_attempt(),
                           [&] { return ready() || link.server_came_back(); });
  stopping = e.stopping;
  std::vector<PendingWrite> batch;
  const std::size_t n = std::min(e.writes.size(), std::max<std::size_t>(1, e.options.max_batch));
  batch.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    batch.push_back(std::move(e.writes.front()));
    e.writes.pop_front();
  }
  e.metrics.queue_depth.set(static_cast<double>(e.writes.size()));
  return batch;
}

}  // namespace

void run_writer(Engine& e) {
  Link link(e, "writer");
  if (e.options.schema_dir)
    migrate(e, link);
  else
    link.get();
  for (;;) {
    bool stopping = false;
    std::vector<PendingWrite> batch = take_batch(e, link, stopping);
    if (stopping && batch.empty()) return;
    // Shutting down: one last connection attempt so queued writes are not lost to a backoff.
    if (stopping && !link.connected()) link.reconnect_now();
    if (e.schema.load(std::memory_order_acquire) == SchemaState::pending) migrate(e, link);
    BatchRunner runner(e, link, batch);
    if (e.schema.load(std::memory_order_acquire) != SchemaState::ready)
      runner.fail_all(unwritable(e, link));
    else if (batch.empty())
      link.get();  // woken to reconnect while idle
    else
      runner.run(0, batch.size());
  }
}

}  // namespace salon::db::detail
