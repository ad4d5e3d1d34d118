// SPDX-License-Identifier: GPL-3.0-or-later
// The durable write path, loop side. Each archived message brings the hold on its broadcast;
// rows wait here while one batch is being committed and then go together as the next batch
// (one multi-row INSERT, one COMMIT on the database writer thread: group commit). Holds are
// released when their batch has committed, so whatever an occupant saw is in PostgreSQL; a
// failed batch fails its holds and each sender gets an error instead of a silent loss.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "plugin/plugin.hpp"
#include "store.hpp"

namespace salon {
class Counter;
class Histogram;
}  // namespace salon

namespace salon::archive {

class Writer {
public:
  Writer(db::Database& db, Metrics& metrics);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Loop thread. `hold` may be empty (a row whose broadcast is not held).
  void add(Row row, std::optional<plugin::BroadcastHold> hold);
  [[nodiscard]] std::size_t pending() const { return rows_.size(); }

private:
  void flush();
  static void settle(std::vector<std::optional<plugin::BroadcastHold>>& holds, bool ok);
  void committed(std::size_t n, bool ok, const std::string& error,
                 std::chrono::steady_clock::time_point t0);

  db::Database& db_;
  Histogram& batch_size_;
  Histogram& commit_seconds_;
  Counter& archived_;
  Counter& failed_;
  std::vector<Row> rows_;
  std::vector<std::optional<plugin::BroadcastHold>> holds_;
  bool in_flight_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace salon::archive
