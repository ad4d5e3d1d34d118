// SPDX-License-Identifier: GPL-3.0-or-later
// The core's commit phase end to end (issue 17 §1): two plugins add rows for one message, the
// room holds the broadcast once until both are committed together, and a message whose rows
// cannot be stored is bounced, with none of them stored.
#include <pqxx/pqxx>

#include "../db/pg_env.hpp"
#include "../muc/harness.hpp"
#include "db/database.hpp"
#include "journal/journal.hpp"

namespace salon::journal {
namespace {

constexpr const char* A = "alice@example.com/web";
constexpr const char* B = "bob@example.com/pc";

// Stores the message body into the SQL table named like the plugin.
class BodyTable final : public TableOf<std::string> {
public:
  explicit BodyTable(std::string name) : TableOf(std::move(name)) {}
  std::int64_t insert_rows(pqxx::dbtransaction& tx, Rows rows, Source) override {
    for (const std::string* body : rows)
      tx.exec_params("INSERT INTO " + tx.quote_name(name()) + " (body) VALUES ($1)", *body);
    return 0;
  }
  [[nodiscard]] std::string encode_row(const std::string& r) const override { return r; }
  [[nodiscard]] std::optional<std::string> decode_row(std::string_view b) const override {
    return std::string(b);
  }
};

struct RowPlugin : plugin::Plugin {
  explicit RowPlugin(std::string n) : name_(std::move(n)) {}
  std::string_view name() const override { return name_; }
  std::optional<std::string> start(plugin::Host& host, const config::PluginSection&) override {
    table = &host.journal().add_table<BodyTable>(name_);
    return std::nullopt;
  }
  void on_message_commit(const plugin::MessageEvent& e, Commit& c) override {
    c.add(*table, std::string(e.stanza.child_text("body")));
  }
  std::string name_;
  BodyTable* table = nullptr;
};

class CommitPhase : public db::test::PgTest {
protected:
  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
    // 'poison' is refused by table b only: a message whose rows are half storable.
    exec("CREATE TABLE a (body text, txid bigint DEFAULT txid_current())");
    exec(
        "CREATE TABLE b (body text CHECK (body <> 'poison'),"
        " txid bigint DEFAULT txid_current())");
    database.emplace(bench.io, bench.metrics, options());
    journal.emplace(bench.io, *database, bench.metrics, std::filesystem::path());
    bench.journal = &*journal;
    bench.make_service();
    bench.service->add_plugin(std::make_unique<RowPlugin>("a"));
    bench.service->add_plugin(std::make_unique<RowPlugin>("b"));
    ASSERT_FALSE(bench.service->start());
    bench.settle();
    bench.joined(B, "Bob");
    bench.joined(A, "Alice");
  }
  void TearDown() override {
    bench.service.reset();
    journal.reset();
    database.reset();
    PgTest::TearDown();
  }
  db::Options options() const {
    db::Options o;
    o.conninfo = conninfo();
    o.readers = 1;
    return o;
  }
  // Sends and waits until `n` stanzas went out.
  std::vector<Element> say(const std::string& body, std::size_t n) {
    bench.groupchat(A, body, "m-" + body);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (bench.sink->sent.size() < n && std::chrono::steady_clock::now() < deadline)
      bench.run_for(std::chrono::milliseconds(5));
    return bench.take();
  }

  muc::test::RoomBench bench;
  std::optional<db::Database> database;
  std::optional<Journal> journal;
};

TEST_F(CommitPhase, BothPluginsRowsCommitTogetherBeforeTheBroadcast) {
  bench.groupchat(A, "hello", "m1");
  EXPECT_TRUE(bench.take().empty());  // held: nothing is broadcast before the commit
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (bench.sink->sent.size() < 2 && std::chrono::steady_clock::now() < deadline)
    bench.run_for(std::chrono::milliseconds(5));
  const auto out = bench.take();
  ASSERT_EQ(out.size(), 2u);  // to Bob and to Alice
  EXPECT_EQ(out[0].child_text("body"), "hello");
  EXPECT_EQ(scalar("SELECT count(*) FROM a JOIN b USING (body, txid)"), "1");
  EXPECT_EQ(bench.metrics.counter("salon_journal_messages_total", "").value(), 1u);
}

TEST_F(CommitPhase, AMessageWhoseRowsCannotAllBeStoredIsBouncedWithNoneStored) {
  ASSERT_EQ(say("first", 2).size(), 2u);
  const auto out = say("poison", 1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("to"), A);
  EXPECT_EQ(out[0].attr("type"), "error");
  EXPECT_EQ(salon::error_condition(out[0]), "internal-server-error");
  EXPECT_EQ(scalar("SELECT string_agg(body, ',') FROM a"), "first");  // not 'poison' in a
  EXPECT_EQ(scalar("SELECT string_agg(body, ',') FROM b"), "first");
  EXPECT_EQ(say("after", 2).size(), 2u);  // the room goes on
}

}  // namespace
}  // namespace salon::journal
