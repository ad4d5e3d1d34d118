// SPDX-License-Identifier: GPL-3.0-or-later
// The journal against a real PostgreSQL: one batch and one COMMIT for every table's rows,
// all-or-nothing by message, the spool when PostgreSQL is away and its replay.
#include <pqxx/pqxx>

#include <charconv>

#include "../db/pg_env.hpp"
#include "../db/pg_proxy.hpp"
#include "core/metrics.hpp"
#include "db/database.hpp"
#include "journal/journal.hpp"

namespace salon::journal {
namespace {

using db::test::PgProxy;
using db::test::TempDir;

struct TestRow {
  int id = 0;
  std::string v;
};

// Rows of table `name` go to the SQL table of that name (id, v, txid). v = 'fail' violates a
// CHECK: a message that PostgreSQL refuses. Replayed rows skip ids already stored.
class TestTable final : public TableOf<TestRow> {
public:
  explicit TestTable(std::string name) : TableOf(std::move(name)) {}

  std::int64_t insert_rows(pqxx::dbtransaction& tx, Rows rows, Source source) override {
    for (const TestRow* r : rows)
      tx.exec_params("INSERT INTO " + tx.quote_name(name()) + " (id, v) VALUES ($1, $2)" +
                         (source == Source::replayed ? " ON CONFLICT (id) DO NOTHING" : ""),
                     r->id, r->v);
    return rows.back()->id;
  }
  [[nodiscard]] std::string encode_row(const TestRow& r) const override {
    return std::to_string(r.id) + "," + r.v;
  }
  [[nodiscard]] std::optional<TestRow> decode_row(std::string_view b) const override {
    TestRow r;
    const auto comma = b.find(',');
    if (comma == std::string_view::npos) return std::nullopt;
    const auto [p, ec] = std::from_chars(b.data(), b.data() + comma, r.id);
    if (ec != std::errc() || p != b.data() + comma) return std::nullopt;
    r.v = std::string(b.substr(comma + 1));
    return r;
  }
  void committed_rows(Rows rows, Source source, std::int64_t mark) override {
    for (const TestRow* r : rows)
      committed.push_back(r->id);
    marks.push_back(mark);
    sources.push_back(source);
  }
  void unsure() override { ++unsure_calls; }

  std::vector<int> committed;
  std::vector<std::int64_t> marks;
  std::vector<Source> sources;
  int unsure_calls = 0;
};

class JournalTest : public db::test::PgTest {
protected:
  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
    for (const char* t : {"a", "b"})
      exec(std::string("CREATE TABLE ") + t +
           " (id int PRIMARY KEY, v text NOT NULL CHECK (v <> 'fail'),"
           " txid bigint NOT NULL DEFAULT txid_current())");
  }

  db::Options options(const std::string& conninfo) const {
    db::Options o;
    o.conninfo = conninfo;
    o.readers = 1;
    o.health_interval = std::chrono::milliseconds(100);
    o.reconnect_max = std::chrono::milliseconds(200);
    return o;
  }

  // A message with a row in table a and one in b (b's value may be 'fail').
  Commit message(TestTable& a, TestTable& b, int id, std::string bv = "b") {
    Commit c;
    c.add(a, TestRow{id, "a"});
    c.add(b, TestRow{id, std::move(bv)});
    return c;
  }

  Journal::Done recorder(int id) {
    return [this, id](bool durable) { done_.emplace_back(id, durable); };
  }

  std::string ids(const std::string& table) const {
    return scalar("SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM " + table);
  }

  Metrics metrics_;
  std::vector<std::pair<int, bool>> done_;
};

TEST_F(JournalTest, AnEmptyCommitIsDurableAtOnce) {
  db::Database database(io_, metrics_, options(conninfo()));
  Journal journal(io_, database, metrics_, {});
  journal.start();
  journal.submit(Commit{}, recorder(1));
  ASSERT_EQ(done_.size(), 1u);  // synchronously: nothing to wait for
  EXPECT_TRUE(done_[0].second);
}

// Messages queued while a batch is in flight are the next batch: every table's rows of all of
// them in one transaction, each table's rows in one insert() call, in message order.
TEST_F(JournalTest, QueuedMessagesOfEveryTableShareOneCommit) {
  db::Database database(io_, metrics_, options(conninfo()));
  Journal journal(io_, database, metrics_, {});
  auto& a = journal.add_table<TestTable>("a");
  auto& b = journal.add_table<TestTable>("b");
  journal.start();
  journal.submit(message(a, b, 1), recorder(1));  // goes at once
  for (int i = 2; i <= 20; ++i)
    journal.submit(message(a, b, i), recorder(i));  // queued behind it: one batch
  ASSERT_TRUE(run_until([&] { return done_.size() == 20; }));
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(done_[i], std::make_pair(i + 1, true));
  EXPECT_EQ(scalar("SELECT count(DISTINCT txid) FROM (SELECT txid FROM a UNION ALL "
                   "SELECT txid FROM b) t"),
            "2");
  EXPECT_EQ(scalar("SELECT count(*) FROM a JOIN b USING (txid, id) WHERE id > 1"), "19");
  EXPECT_EQ(a.committed.size(), 20u);
  EXPECT_EQ(a.marks, (std::vector<std::int64_t>{1, 20}));  // insert()'s value comes back
  EXPECT_EQ(metrics_.histogram("salon_journal_batch_size", "").count(), 2u);
  EXPECT_EQ(metrics_.counter("salon_journal_messages_total", "").value(), 20u);
}

// One message's row that PostgreSQL refuses fails that message, all its tables' rows with it
// (never one table of a message), and no other message.
TEST_F(JournalTest, AMessageIsAllOrNothingAndFailsAlone) {
  db::Database database(io_, metrics_, options(conninfo()));
  Journal journal(io_, database, metrics_, {});
  auto& a = journal.add_table<TestTable>("a");
  auto& b = journal.add_table<TestTable>("b");
  journal.start();
  journal.submit(message(a, b, 1), recorder(1));
  for (int i = 2; i <= 6; ++i)
    journal.submit(message(a, b, i, i == 4 ? "fail" : "b"), recorder(i));
  ASSERT_TRUE(run_until([&] { return done_.size() == 6; }));
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(done_[i], std::make_pair(i + 1, i + 1 != 4)) << i;
  EXPECT_EQ(ids("a"), "1,2,3,5,6");
  EXPECT_EQ(ids("b"), "1,2,3,5,6");
  EXPECT_EQ(a.committed, (std::vector<int>{1, 2, 3, 5, 6}));
  EXPECT_GE(a.unsure_calls, 1);  // the failed batch: its claims no longer hold
  EXPECT_EQ(metrics_.counter("salon_journal_failed_total", "").value(), 1u);
}

TEST_F(JournalTest, WithoutASpoolAnUnreachableDatabaseFailsTheMessage) {
  PgProxy proxy(conninfo());
  proxy.start();
  proxy.stop();
  db::Database database(io_, metrics_, options(proxy.through(conninfo())));
  Journal journal(io_, database, metrics_, {});
  auto& a = journal.add_table<TestTable>("a");
  auto& b = journal.add_table<TestTable>("b");
  journal.start();
  journal.submit(message(a, b, 1), recorder(1));
  ASSERT_TRUE(run_until([&] { return done_.size() == 1; }));
  EXPECT_FALSE(done_[0].second);
  EXPECT_EQ(metrics_.counter("salon_journal_failed_total", "").value(), 1u);
}

// PostgreSQL away: every table's rows go to the spool (durable: the broadcast may go out);
// back: they are replayed in order, and live messages wait behind them.
TEST_F(JournalTest, TheSpoolKeepsEveryTableAndReplaysInOrder) {
  TempDir dir;
  PgProxy proxy(conninfo());
  proxy.start();  // takes its port
  proxy.stop();   // PostgreSQL is unreachable
  db::Database database(io_, metrics_, options(proxy.through(conninfo())));
  Journal journal(io_, database, metrics_, dir.path());
  auto& a = journal.add_table<TestTable>("a");
  auto& b = journal.add_table<TestTable>("b");
  journal.start();
  for (int i = 1; i <= 3; ++i)
    journal.submit(message(a, b, i), recorder(i));
  ASSERT_TRUE(run_until([&] { return done_.size() == 3; }));
  for (const auto& d : done_)
    EXPECT_TRUE(d.second) << d.first;
  EXPECT_TRUE(journal.spooling());
  EXPECT_EQ(metrics_.counter("salon_journal_spooled_total", "").value(), 3u);
  EXPECT_NE(metrics_.render().find("salon_journal_spool_bytes "), std::string::npos);
  proxy.start();
  journal.submit(message(a, b, 4), recorder(4));  // behind the spooled ones
  ASSERT_TRUE(run_until([&] { return done_.size() == 4 && !journal.spooling(); }));
  EXPECT_TRUE(done_[3].second);
  EXPECT_EQ(ids("a"), "1,2,3,4");
  EXPECT_EQ(ids("b"), "1,2,3,4");
  EXPECT_EQ(a.committed, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(a.sources.front(), Source::replayed);
  EXPECT_EQ(std::filesystem::file_size(dir.path() / "journal.spool"), 0u);
}

// A spool left by a killed salond is replayed at start by the next one: idempotent (rows stored
// before the kill are not doubled), a table nobody registers any more is dropped and counted,
// and a message PostgreSQL refuses is set aside without stopping the replay.
TEST_F(JournalTest, ALeftOverSpoolIsReplayedAtStart) {
  TempDir dir;
  const auto part = [](std::string table, int id, std::string v) {
    return Part{std::move(table), std::to_string(id) + "," + v};
  };
  std::string file;
  file += encode_record({10, {part("a", 1, "a"), part("b", 1, "b")}});
  file += encode_record({11, {part("a", 2, "a"), part("gone", 2, "x")}});
  file += encode_record({12, {part("a", 3, "a"), part("b", 3, "fail")}});
  file += encode_record({13, {part("a", 4, "a"), part("b", 4, "b")}});
  dir.write("journal.spool", file);
  exec("INSERT INTO a (id, v) VALUES (1, 'a')");  // committed before the kill
  db::Database database(io_, metrics_, options(conninfo()));
  Journal journal(io_, database, metrics_, dir.path());
  auto& a = journal.add_table<TestTable>("a");
  journal.add_table<TestTable>("b");
  journal.start();
  ASSERT_TRUE(run_until([&] { return !journal.spooling(); }));
  EXPECT_EQ(ids("a"), "1,2,4");
  EXPECT_EQ(ids("b"), "1,4");
  EXPECT_EQ(a.committed, (std::vector<int>{1, 2, 4}));
  EXPECT_EQ(metrics_.counter("salon_journal_replay_dropped_rows_total", "").value(), 1u);
  EXPECT_TRUE(run_until([&] {
    return metrics_.counter("salon_journal_spool_corrupt_records_total", "").value() == 1u;
  }));
  std::error_code ec;
  EXPECT_GT(std::filesystem::file_size(dir.path() / "journal.spool.corrupt", ec), 0u);
}

}  // namespace
}  // namespace salon::journal
