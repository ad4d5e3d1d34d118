// SPDX-License-Identifier: GPL-3.0-or-later
// The journal's spool: an append-only file that takes a batch's messages while PostgreSQL is
// unreachable, so that they are still reflected (the hold is released once they are fsync'd)
// and reach PostgreSQL later, in order. Replaying twice is harmless: every table's replayed
// INSERT ignores rows already stored (Source::replayed).
//
// Format: one record per message, "<payload length>\n<payload>\n", the payload being the
// message's spool time and then its rows as pairs of netstrings: the table's name, then the
// row as the table encoded it (journal::Table::encode). A message's rows are one record: all or
// none of them replay. A record cut short by a crash during append (its message was never
// reflected: the hold waits for the fsync) is cut off when the spool is opened, so that new
// records are not appended behind it. Bytes in the middle that are not a record (a damaged
// disk, a hand-edited file) are skipped on replay, copied to `journal.spool.corrupt`, logged
// as an error and counted in salon_journal_spool_corrupt_records_total: the records after them
// are still replayed, and the operator has the bytes to look at. A message whose rows fail to
// be stored on replay is set aside the same way (set_aside).
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

#include "core/metrics.hpp"

namespace salon::journal {

// A record's payload is at most this long (a message's rows hold its stanza, whose size is
// limited by max_stanza_bytes, 256 KiB by default, a few times): a longer length line is
// damage, and append refuses such messages.
inline constexpr std::size_t kMaxRecord = std::size_t{8} << 20;

// One row of a spooled message: the name of its table and the row as that table encoded it.
struct Part {
  std::string table;
  std::string row;
  bool operator==(const Part&) const = default;
};
struct SpooledMessage {
  std::int64_t at_us = 0;  // when it was spooled (µs since the epoch): the spool's oldest age
  std::vector<Part> parts;
  bool operator==(const SpooledMessage&) const = default;
};

// Pure (unit-tested): the record of one message, and what a stretch of a spool file holds.
std::string encode_record(const SpooledMessage& message);

struct SpoolChunk {
  struct Stretch {
    std::size_t offset = 0, size = 0;
  };
  std::vector<SpooledMessage> messages;
  std::size_t end = 0;           // where the messages and the bad stretches decoded end
  std::vector<Stretch> corrupt;  // bytes before `end` that are not records (skipped)
  bool torn = false;             // `last` and the data ends in a record cut short at `end`
};
// `last`: the data reaches the end of the file (otherwise an incomplete record at the end is
// left for the next chunk, which starts at `end`).
SpoolChunk decode_spool(std::string_view data, bool last, std::size_t max_messages = SIZE_MAX);
// The messages of a chunk that is not the end of the file; `consumed` = SpoolChunk::end.
std::vector<SpooledMessage> decode_records(std::string_view data, std::size_t& consumed,
                                           std::size_t max_messages = SIZE_MAX);

class Spool {
public:
  // Creates `dir` (fsync'd) and cuts a torn last record off on the spool thread, before any
  // other work. `corrupt` (may be null) counts the bad stretches that replay skips.
  Spool(boost::asio::io_context& loop, std::filesystem::path dir, Counter* corrupt = nullptr);
  ~Spool();  // waits for the spool thread's pending work
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  using Messages = std::shared_ptr<const std::vector<SpooledMessage>>;
  // Appends and fsyncs; `done(error)` on the loop ("" = durable).
  void append(Messages messages, std::function<void(std::string)> done);
  // Reads up to `max_messages` messages after what was replayed so far.
  // `done(messages, end, error)`. Messages may be empty with `end` past the replayed offset
  // (only bad bytes were there): pass `end` to consumed() all the same, and the spool is
  // drained only once empty().
  void read(
      std::size_t max_messages,
      std::function<void(std::vector<SpooledMessage>, std::uint64_t end, std::string error)> done);
  // The messages up to `end` are in PostgreSQL: they are not read again; when that is the
  // whole file it is truncated (fsync'd).
  void consumed(std::uint64_t end, std::function<void(std::string)> done);
  // A replayed message that PostgreSQL refused (it would be refused again): its record is
  // appended to the .corrupt file beside the spool, counted and logged, and replay goes on.
  void set_aside(SpooledMessage message, std::string why);

  // Loop thread; updated as work completes.
  [[nodiscard]] std::uint64_t bytes() const { return bytes_; }  // not yet replayed
  [[nodiscard]] bool empty() const { return bytes_ == 0; }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
  void recover();
  void report_corrupt(std::string_view chunk, std::uint64_t at, const SpoolChunk& c);

  boost::asio::io_context& loop_;
  std::filesystem::path path_;
  Counter* corrupt_;
  boost::asio::thread_pool thread_{1};
  std::uint64_t bytes_ = 0;      // loop: file size minus replayed offset
  std::uint64_t file_size_ = 0;  // spool thread only
  std::uint64_t replayed_ = 0;   // spool thread only
  std::uint64_t reported_ = 0;   // spool thread: bad stretches before this offset were reported
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace salon::journal
