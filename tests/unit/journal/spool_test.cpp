// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "journal/spool.hpp"

namespace salon::journal {
namespace {

// A message of three tables' rows; the first row names it. The bytes hold what the spool must
// carry through unchanged: separators of its own format, newlines, non-ASCII.
SpooledMessage row(std::string sid, std::string body) {
  SpooledMessage m;
  m.at_us = 1795867200123456;
  m.parts = {{"archive", std::move(sid)},
             {"email", "\xc3\x84, nick:with,separators\n" + body},
             {"presence", "<message from='r@s/n'><body>x\ny</body></message>"}};
  return m;
}

const std::string& sid_of(const SpooledMessage& m) {
  return m.parts.at(0).row;
}

void expect_same(const SpooledMessage& a, const SpooledMessage& b) {
  EXPECT_EQ(a, b);
}

TEST(SpoolRecords, RoundTripInOrder) {
  const std::string data = encode_record(row("s1", "one")) + encode_record(row("s2", "two\n3:,"));
  std::size_t consumed = 0;
  auto rows = decode_records(data, consumed);
  ASSERT_EQ(rows.size(), 2u);
  expect_same(rows[0], row("s1", "one"));
  expect_same(rows[1], row("s2", "two\n3:,"));
  EXPECT_EQ(consumed, data.size());
}

TEST(SpoolRecords, ATornLastRecordIsIgnored) {
  const std::string first = encode_record(row("s1", "one"));
  const std::string second = encode_record(row("s2", "two"));
  for (std::size_t cut = 0; cut < second.size(); ++cut) {
    std::size_t consumed = 0;
    auto rows = decode_records(first + second.substr(0, cut), consumed);
    ASSERT_EQ(rows.size(), 1u) << cut;
    EXPECT_EQ(consumed, first.size());
  }
}

TEST(SpoolRecords, MaxMessagesStopsAtARecordBoundary) {
  const std::string a = encode_record(row("s1", "one"));
  const std::string data = a + encode_record(row("s2", "two"));
  std::size_t consumed = 0;
  auto rows = decode_records(data, consumed, 1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(consumed, a.size());
}

// Found writing fuzz/spool.cpp: a length near SIZE_MAX wrapped the bounds check and framed the
// bytes after it as a record.
TEST(SpoolRecords, AHugeLengthIsNotARecord) {
  const std::string whole = encode_record(row("s1", "one"));
  const std::string payload =
      whole.substr(whole.find('\n') + 1, whole.size() - whole.find('\n') - 2);
  // The length is damage: no record is framed from the bytes after it, they are reported.
  const SpoolChunk c = decode_spool("18446744073709551615\n" + payload, true);
  EXPECT_TRUE(c.messages.empty());
  ASSERT_FALSE(c.corrupt.empty());
  EXPECT_EQ(c.corrupt.front().offset, 0u);
}

// Runs the loop until `calls` completions have arrived from the spool thread (or 5 s).
void settle(boost::asio::io_context& io, int& calls, int want) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (calls < want && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(calls, want);
  calls = 0;
}

// The file side: appends are durable and read back in order; consuming everything truncates.
TEST(SpoolFile, AppendReadConsume) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("salon-spool-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  boost::asio::io_context io;
  int calls = 0;
  {
    Spool spool(io, dir);
    EXPECT_TRUE(spool.empty());
    std::string err;
    const auto appended = [&](std::string e) {
      err += e;
      ++calls;
    };
    spool.append(std::make_shared<const std::vector<SpooledMessage>>(
                     std::vector<SpooledMessage>{row("s1", "one"), row("s2", "two")}),
                 appended);
    spool.append(std::make_shared<const std::vector<SpooledMessage>>(
                     std::vector<SpooledMessage>{row("s3", "three")}),
                 appended);
    settle(io, calls, 2);
    EXPECT_EQ(err, "");
    EXPECT_FALSE(spool.empty());
    std::vector<SpooledMessage> got;
    std::uint64_t end = 0;
    const auto read = [&](std::vector<SpooledMessage> r, std::uint64_t e, std::string error) {
      EXPECT_EQ(error, "");
      got = std::move(r);
      end = e;
      ++calls;
    };
    spool.read(2, read);
    settle(io, calls, 1);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(sid_of(got[1]), "s2");
    spool.consumed(end, [&](std::string e) { err += e, ++calls; });
    spool.read(10, read);
    settle(io, calls, 2);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(sid_of(got[0]), "s3");
    EXPECT_FALSE(spool.empty());
    spool.consumed(end, [&](std::string e) { err += e, ++calls; });
    settle(io, calls, 1);
    EXPECT_EQ(err, "");
    EXPECT_TRUE(spool.empty());
  }
  EXPECT_EQ(std::filesystem::file_size(dir / "journal.spool"), 0u);
  {
    // A restart finds what an earlier run left.
    std::ofstream(dir / "journal.spool", std::ios::binary) << encode_record(row("s9", "nine"));
    Spool again(io, dir);
    EXPECT_FALSE(again.empty());
  }
  std::filesystem::remove_all(dir);
}

// The record torn by a crash is told from damage: only an incomplete record at the very end
// is torn; bytes that cannot be a record, in the middle, are a bad stretch and skipped.
TEST(SpoolRecords, ATornLastRecordIsToldFromDamage) {
  const std::string first = encode_record(row("s1", "one"));
  const std::string second = encode_record(row("s2", "two"));
  for (std::size_t cut = 1; cut < second.size(); ++cut) {
    const SpoolChunk c = decode_spool(first + second.substr(0, cut), true);
    ASSERT_EQ(c.messages.size(), 1u) << cut;
    EXPECT_TRUE(c.torn) << cut;
    EXPECT_EQ(c.end, first.size()) << cut;
    EXPECT_TRUE(c.corrupt.empty()) << cut;
  }
}

TEST(SpoolRecords, ABadStretchInTheMiddleIsSkippedAndReported) {
  const std::string a = encode_record(row("s1", "one"));
  const std::string b = encode_record(row("s2", "two"));
  std::string damaged = encode_record(row("sx", "lost"));
  damaged[damaged.find(':')] = '\x01';  // a payload that no longer decodes
  for (const std::string& bad :
       {damaged, std::string("99999999999\n"), std::string("x\n"), a.substr(0, a.size() / 2)}) {
    const std::string data = a + bad + b;
    const SpoolChunk c = decode_spool(data, true);
    ASSERT_EQ(c.messages.size(), 2u) << bad;
    EXPECT_EQ(sid_of(c.messages[1]), "s2");
    EXPECT_FALSE(c.torn);
    ASSERT_EQ(c.corrupt.size(), 1u) << bad;
    EXPECT_EQ(c.corrupt[0].offset, a.size());
    EXPECT_EQ(c.corrupt[0].size, bad.size());
    EXPECT_EQ(c.end, data.size());
  }
}

struct SpoolDir {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("salon-spool-test-" + std::to_string(::getpid()) + "-" +
                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  SpoolDir() { std::filesystem::remove_all(dir); }
  ~SpoolDir() { std::filesystem::remove_all(dir); }
};

// Everything replay would see: reads and consumes until a read returns no rows at the end.
std::vector<std::string> replay_all(boost::asio::io_context& io, Spool& spool) {
  std::vector<std::string> ids;
  int calls = 0;
  for (int step = 0; step < 100; ++step) {
    std::vector<SpooledMessage> got;
    std::uint64_t end = 0;
    spool.read(2, [&](std::vector<SpooledMessage> r, std::uint64_t e, std::string error) {
      EXPECT_EQ(error, "");
      got = std::move(r);
      end = e;
      ++calls;
    });
    settle(io, calls, 1);
    for (const SpooledMessage& r : got)
      ids.push_back(sid_of(r));
    spool.consumed(end, [&](const std::string& e) {
      EXPECT_EQ(e, "");
      ++calls;
    });
    settle(io, calls, 1);
    if (got.empty() && spool.empty()) break;
  }
  return ids;
}

void append(boost::asio::io_context& io, Spool& spool, std::vector<SpooledMessage> rows) {
  int calls = 0;
  spool.append(std::make_shared<const std::vector<SpooledMessage>>(std::move(rows)),
               [&](std::string e) {
                 EXPECT_EQ(e, "");
                 ++calls;
               });
  settle(io, calls, 1);
}

// A crash mid-append left half a record: the restarted spool cuts it off, so the records
// appended next are replayed too (they used to sit behind it, unread: replay stopped at the
// torn record and believed the spool drained).
TEST(SpoolFile, ATornRecordIsCutAndLaterAppendsReplay) {
  SpoolDir d;
  std::filesystem::create_directories(d.dir);
  const std::string whole = encode_record(row("s1", "one")) + encode_record(row("s2", "two"));
  const std::string torn = encode_record(row("s3", "torn"));
  std::ofstream(d.dir / "journal.spool", std::ios::binary) << whole << torn.substr(0, 20);
  boost::asio::io_context io;
  Counter corrupt;
  Spool spool(io, d.dir, &corrupt);
  append(io, spool, {row("s4", "four"), row("s5", "five")});
  EXPECT_EQ(replay_all(io, spool), (std::vector<std::string>{"s1", "s2", "s4", "s5"}));
  EXPECT_EQ(corrupt.value(), 0u);  // a torn record is no damage: its message was not reflected
}

// The cut is on disk: a second restart before any append finds only whole records.
TEST(SpoolFile, TheCutIsDurable) {
  SpoolDir d;
  std::filesystem::create_directories(d.dir);
  const std::string whole = encode_record(row("s1", "one"));
  std::ofstream(d.dir / "journal.spool", std::ios::binary) << whole << "123\n12:";
  boost::asio::io_context io;
  { Spool spool(io, d.dir); }
  EXPECT_EQ(std::filesystem::file_size(d.dir / "journal.spool"), whole.size());
}

// Damage in the middle is an error: counted, logged, its bytes kept in journal.spool.corrupt,
// and the records after it are still replayed.
TEST(SpoolFile, ACorruptRecordIsCountedAndTheRestReplayed) {
  SpoolDir d;
  std::filesystem::create_directories(d.dir);
  std::string bad = encode_record(row("sx", "damaged"));
  bad[bad.find(':')] = '\x01';
  std::ofstream(d.dir / "journal.spool", std::ios::binary)
      << encode_record(row("s1", "one")) << bad << encode_record(row("s2", "two"));
  boost::asio::io_context io;
  Counter corrupt;
  Spool spool(io, d.dir, &corrupt);
  append(io, spool, {row("s3", "three")});
  EXPECT_EQ(replay_all(io, spool), (std::vector<std::string>{"s1", "s2", "s3"}));
  EXPECT_EQ(corrupt.value(), 1u);
  std::ifstream aside(d.dir / "journal.spool.corrupt", std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(aside), {}), bad);
}

// What frames a message: its spool time, then (table, row) pairs, at least one, nothing else.
TEST(SpoolRecords, APayloadIsATimeAndTableRowPairs) {
  const auto framed = [](std::string payload) {
    const std::string data = std::to_string(payload.size()) + "\n" + payload + "\n";
    return decode_spool(data, true).messages.size();
  };
  EXPECT_EQ(framed("2:17,1:t,3:row,"), 1u);
  EXPECT_EQ(framed("2:17,1:t,3:row,1:u,0:,"), 1u);  // an empty row is a row
  EXPECT_EQ(framed("2:17,"), 0u);                   // no rows
  EXPECT_EQ(framed("2:17,0:,3:row,"), 0u);          // no table name
  EXPECT_EQ(framed("2:17,1:t,"), 0u);               // a table without its row
  EXPECT_EQ(framed("2:1x,1:t,3:row,"), 0u);         // the time is not a number
  EXPECT_EQ(framed("0:,1:t,3:row,"), 0u);
  EXPECT_EQ(framed("2:17,1:t,3:row,junk"), 0u);
}

// A message PostgreSQL refused on replay is kept beside the spool, counted (issue 17: never
// a silent loss, never a spool stuck on one bad message).
TEST(SpoolFile, ASetAsideMessageIsKeptAndCounted) {
  SpoolDir d;
  boost::asio::io_context io;
  Counter corrupt;
  {
    Spool spool(io, d.dir, &corrupt);
    spool.set_aside(row("s1", "refused"), "violates a constraint");
  }  // the destructor waits for the spool thread
  EXPECT_EQ(corrupt.value(), 1u);
  std::ifstream aside(d.dir / "journal.spool.corrupt", std::ios::binary);
  const std::string kept(std::istreambuf_iterator<char>(aside), {});
  std::size_t consumed = 0;
  const auto back = decode_records(kept, consumed);
  ASSERT_EQ(back.size(), 1u);
  expect_same(back[0], row("s1", "refused"));
}

TEST(SpoolFile, CreatesItsDirectory) {
  SpoolDir d;
  boost::asio::io_context io;
  Spool spool(io, d.dir / "a" / "b");
  EXPECT_TRUE(std::filesystem::is_directory(d.dir / "a" / "b"));
}

}  // namespace
}  // namespace salon::journal
