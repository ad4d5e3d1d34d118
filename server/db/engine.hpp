// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to server/db: the state shared by Database and its worker threads.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/metrics.hpp"
#include "db/database.hpp"

namespace salon::db::detail {

enum class SchemaState { pending, ready, failed };

// Read and written on the loop thread only. Shared, so that handlers the workers posted stay
// valid after the Database is gone.
struct LoopState {
  bool pg_up = false;
  bool schema_ready = false;
  bool healthy = false;
  std::optional<MigrationResult> migrations;
  std::function<void(bool)> on_health;
  std::function<void(const MigrationResult&)> on_migrations;
  Gauge* up_gauge = nullptr;
  // Recomputes `healthy` and tells the listener when it changed.
  void update();
};

struct PendingWrite {
  WriteJob job;
  std::chrono::steady_clock::time_point queued;
};

struct DbMetrics {
  explicit DbMetrics(Metrics& m);
  Gauge& queue_depth;
  Histogram& batch_size;
  Histogram& commit_duration;
  Histogram& write_latency;
  Gauge& up;
  Counter& connect_errors;
  Counter& query_errors;
  Counter& queries_refused;
  Counter& write_errors;
  Counter& health_errors;
};

struct Engine {
  Engine(boost::asio::io_context& io, Metrics& metrics, Options options);

  boost::asio::io_context& io;
  const Options options;
  const std::string conninfo;  // options.conninfo plus our defaults (connect_timeout)
  DbMetrics metrics;
  const std::shared_ptr<LoopState> loop = std::make_shared<LoopState>();

  std::mutex mutex;  // guards the queues and `stopping`
  std::condition_variable reader_cv, writer_cv, health_cv;
  std::deque<QueryTask> queries;
  std::deque<PendingWrite> writes;
  bool stopping = false;
  bool stopped = false;  // stop() has run (guarded by stop_mutex)
  std::mutex stop_mutex;
  std::vector<std::thread> threads;

  std::atomic<SchemaState> schema;
  std::string schema_error;  // written by the writer before `schema` becomes failed
  // Bumped by the health checker whenever PostgreSQL becomes reachable: workers waiting out a
  // reconnect backoff try again at once.
  std::atomic<std::uint64_t> up_generation{0};

  void post(Completion c) { boost::asio::post(io, std::move(c)); }
  void wake_all();
  // Runs on the loop: records a health check or migration outcome.
  void post_pg_up(bool up);
  void post_migrations(MigrationResult result);
};

void run_reader(Engine& e, std::size_t index);
void run_writer(Engine& e);
void run_health(Engine& e);

// PostgreSQL's messages end in newlines; log lines and error texts should not.
std::string trimmed(std::string s);

}  // namespace salon::db::detail
