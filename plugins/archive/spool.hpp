// SPDX-License-Identifier: GPL-3.0-or-later
// The archive's spool: an append-only file that takes archived rows while PostgreSQL is
// unreachable, so that messages are still reflected (the hold is released once the rows are
// fsync'd) and reach PostgreSQL later, in order. Replaying twice is harmless: the writer's
// INSERT ignores stanza-ids already stored.
//
// Format: one record per row, "<payload length>\n<payload>\n", the payload being the row's
// fields as netstrings. A record cut short by a crash during append is ignored on reading
// (its message was never reflected: the hold waits for the fsync).
//
// Blocking file work runs on the spool's own thread; every method is called on the loop and
// every completion is posted back to the loop.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store.hpp"

namespace salon::archive {

// Pure (unit-tested): the record of one row, and the rows of a spool file's bytes (a torn
// last record is dropped; `consumed` is where the returned records end).
std::string encode_record(const Row& row);
std::vector<Row> decode_records(std::string_view data, std::size_t& consumed,
                                std::size_t max_rows = SIZE_MAX);

class Spool {
public:
  Spool(boost::asio::io_context& loop, std::filesystem::path dir);
  ~Spool();  // waits for the spool thread's pending work
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Appends and fsyncs; `done(error)` on the loop ("" = durable).
  void append(std::shared_ptr<const std::vector<Row>> rows, std::function<void(std::string)> done);
  // Reads up to `max_rows` rows after what was replayed so far. `done(rows, end, error)`.
  void read(std::size_t max_rows,
            std::function<void(std::vector<Row>, std::uint64_t end, std::string error)> done);
  // The rows up to `end` are in PostgreSQL: they are not read again; when that is the whole
  // file it is truncated (fsync'd).
  void consumed(std::uint64_t end, std::function<void(std::string)> done);

  // Loop thread; updated as work completes.
  [[nodiscard]] std::uint64_t bytes() const { return bytes_; }  // not yet replayed
  [[nodiscard]] bool empty() const { return bytes_ == 0; }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
  boost::asio::io_context& loop_;
  std::filesystem::path path_;
  boost::asio::thread_pool thread_{1};
  std::uint64_t bytes_ = 0;      // loop: file size minus replayed offset
  std::uint64_t file_size_ = 0;  // spool thread only
  std::uint64_t replayed_ = 0;   // spool thread only
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace salon::archive
