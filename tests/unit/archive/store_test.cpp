// SPDX-License-Identifier: GPL-3.0-or-later
// The archive's SQL against a real PostgreSQL (a scratch database with salon's schema): batch
// insert and its idempotency, message counts (folded and not), MAM pages with count/index,
// corrections, tombstones, purges and history limits.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include <atomic>
#include <chrono>
#include <thread>

#include "../db/pg_env.hpp"
#include "core/metrics.hpp"
#include "core/stamp.hpp"
#include "core/xml_parse.hpp"
#include "db/migrations.hpp"
#include "fold.hpp"
#include "store.hpp"

namespace salon::archive {
namespace {

constexpr const char* kRoomJid = "p1@rooms.example.com";

class ArchiveStore : public db::test::PgTest {
protected:
  void SetUp() override {
    PgTest::SetUp();
    conn_.emplace(conninfo());
    ASSERT_TRUE(db::run_migrations(*conn_, SALON_SCHEMA_DIR).ok());
    pqxx::work tx(*conn_);
    room_ = tx.exec1("INSERT INTO rooms (jid_local, name) VALUES ('p1', 'P') RETURNING id")[0]
                .as<std::int64_t>();
    tx.commit();
  }

  Row row(const std::string& sid, const std::string& body, std::int64_t ts_us,
          const std::string& jid = "alice@example.com") {
    Row r;
    r.room_id = room_;
    r.stanza_id = sid;
    r.ts_us = ts_us;
    r.nick = jid.substr(0, jid.find('@'));
    r.sender_jid = jid;
    r.occupant_id = "occ-" + r.nick;
    r.msg_id = "m-" + sid;
    r.has_body = true;
    r.body = body;
    r.stanza = "<message from='" + std::string(kRoomJid) + "/" + r.nick +
               "' type='groupchat'><body>" + body + "</body></message>";
    return r;
  }

  // As the writer runs a batch; returns what insert_rows returns (the last archive id).
  std::int64_t insert(const std::vector<Row>& rows, Source source = Source::live) {
    pqxx::work tx(*conn_);
    const std::int64_t last = insert_rows(tx, rows, source);
    tx.commit();
    return last;
  }

  [[nodiscard]] std::string counted() const {
    return scalar(
        "SELECT messages || '/' || (upto = (SELECT max(id) FROM archive)) "
        "FROM archive_counts");
  }

  // As the MAM handler runs it: page size from RSM <max/> (default 50, cap 250).
  Page query(const std::string& inner) {
    auto e = parse_xml("<query xmlns='urn:xmpp:mam:2'>" + inner + "</query>");
    const MamQuery q = std::get<MamQuery>(parse_query(*e, kRoomJid));
    return run_query(*conn_, q, room_, kRoomJid, page_size(q, 50, 250));
  }

  static std::vector<std::string> ids(const Page& p) {
    std::vector<std::string> out;
    for (const auto& it : p.items)
      out.push_back(it.stanza_id);
    return out;
  }

  std::optional<pqxx::connection> conn_;
  std::int64_t room_ = 0;
};

// An hour ago, taken when the suite starts: rows must be younger than any retention a test
// purges by ("older than 2 days"), whatever today's date is. A fixed date here turned CI red
// two days after it was written.
const std::int64_t kT0 =
    std::chrono::duration_cast<std::chrono::microseconds>(
        (std::chrono::system_clock::now() - std::chrono::hours(1)).time_since_epoch())
        .count();

TEST_F(ArchiveStore, InsertIsOrderedIdempotentAndCounted) {
  insert({row("a", "one", kT0), row("b", "two", kT0 + 1), row("c", "three", kT0 + 2)});
  insert({row("b", "two", kT0 + 1), row("d", "four", kT0 + 3)}, Source::replayed);
  EXPECT_EQ(scalar("SELECT string_agg(stanza_id, ',' ORDER BY id) FROM archive"), "a,b,c,d");
  EXPECT_EQ(scalar("SELECT count(*) FROM archive_counts"), "0");  // the writer does not count
  Page p = query("<set xmlns='http://jabber.org/protocol/rsm'><max>2</max><before/></set>");
  EXPECT_EQ(ids(p), (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(p.count, 4);
  EXPECT_EQ(p.first_index, 2);
  EXPECT_FALSE(p.complete);
  EXPECT_EQ(p.items[0].ts_us, kT0 + 2);  // microseconds survive
  EXPECT_EQ(p.items[0].message.attr("xmlns"), "jabber:client");
}

TEST_F(ArchiveStore, LiveRowsKeepEveryCharacterThroughCopy) {
  Row r = row("x", "tab\there\nnew line \\N back\\slash \r \x01\x1f caf\u00e9 \U0001F34D", kT0);
  r.stanza = "<message>" + r.body + "</message>";
  r.msg_id.clear();  // no origin-id and no id: NULL, not ''
  Row empty = row("y", "", kT0 + 1);
  // Special characters at every offset of an 8-byte word and in a short tail (the escaper
  // skips plain words whole).
  Row words = row("w", "", kT0 + 2);
  for (int i = 0; i < 19; ++i)
    words.body += std::string(static_cast<std::size_t>(i), 'a') + (i % 2 ? "\\" : "\x1f");
  words.stanza = "<message/>";  // the MAM page below parses it
  insert({r, empty, words});
  EXPECT_EQ(scalar("SELECT body FROM archive WHERE stanza_id = 'w'"), words.body);
  EXPECT_EQ(scalar("SELECT body FROM archive WHERE stanza_id = 'x'"), r.body);
  EXPECT_EQ(scalar("SELECT stanza FROM archive WHERE stanza_id = 'x'"), r.stanza);
  EXPECT_EQ(scalar("SELECT msg_id IS NULL AND replaces IS NULL FROM archive WHERE stanza_id = 'x'"),
            "t");
  EXPECT_EQ(scalar("SELECT body = '' FROM archive WHERE stanza_id = 'y'"), "t");
  EXPECT_EQ(query("<set xmlns='http://jabber.org/protocol/rsm'><before/></set>").items[0].ts_us,
            kT0);
}

TEST_F(ArchiveStore, RowsOfADeletedRoomAreDroppedAndItsArchiveGoesWithIt) {
  insert({row("a", "one", kT0)});
  pqxx::work del(*conn_);
  del.exec0("DELETE FROM rooms WHERE jid_local = 'p1'");
  del.commit();
  EXPECT_EQ(scalar("SELECT count(*) FROM archive"), "0");  // the trigger of schemas/004
  insert({row("b", "two", kT0 + 1)});                      // no error: dropped
  insert({row("c", "three", kT0 + 2)}, Source::replayed);
  EXPECT_EQ(scalar("SELECT count(*) FROM archive"), "0");
  EXPECT_EQ(scalar("SELECT count(*) FROM archive_counts"), "0");
}

// A room deleted while a batch for it is in flight: the DELETE waits for the batch's commit
// (the advisory lock the batch holds shared and the DELETE exclusively, schemas/004), then takes
// the batch's rows with the room.
TEST_F(ArchiveStore, DeletingARoomWaitsForTheBatchInFlight) {
  pqxx::work batch(*conn_);
  insert_rows(batch, {row("a", "one", kT0), row("b", "two", kT0 + 1)}, Source::live);
  std::atomic<bool> deleted = false;
  std::thread deleter([&] {
    pqxx::connection other(conninfo());
    pqxx::work del(other);
    del.exec0("DELETE FROM rooms WHERE jid_local = 'p1'");
    del.commit();
    deleted = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(deleted.load());  // blocked behind the batch
  batch.commit();
  deleter.join();
  EXPECT_TRUE(deleted.load());
  EXPECT_EQ(scalar("SELECT count(*) FROM archive"), "0");
  EXPECT_EQ(scalar("SELECT count(*) FROM archive_counts"), "0");
}

// The other way round: the room's DELETE is in flight when a batch for it starts. The batch
// waits for it (advisory lock), then drops the room's rows instead of failing on
// a missing room or leaving orphans in archive.
TEST_F(ArchiveStore, ABatchWaitsForTheRoomDeletionInFlight) {
  pqxx::connection other(conninfo());
  pqxx::work del(other);
  del.exec0("DELETE FROM rooms WHERE jid_local = 'p1'");
  std::atomic<bool> stored = false;
  std::string error;
  std::thread writer([&] {
    try {
      insert({row("a", "one", kT0)});
      stored = true;
    } catch (const std::exception& e) {
      error = e.what();
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(stored.load());  // blocked behind the deletion
  del.commit();
  writer.join();
  EXPECT_TRUE(stored.load()) << error;
  EXPECT_EQ(scalar("SELECT count(*) FROM archive"), "0");
}

TEST_F(ArchiveStore, CountAndIndexAgreeFilteredOrNot) {
  std::vector<Row> rows;
  rows.reserve(10);
  for (int i = 0; i < 10; ++i)
    rows.push_back(row("s" + std::to_string(i), i % 2 ? "odd pineapple" : "even", kT0 + i,
                       i % 2 ? "bob@example.com" : "alice@example.com"));
  insert(rows);
  Page p = query("<set xmlns='http://jabber.org/protocol/rsm'><max>3</max><after>s4</after></set>");
  EXPECT_EQ(ids(p), (std::vector<std::string>{"s5", "s6", "s7"}));
  EXPECT_EQ(p.first_index, 5);
  EXPECT_EQ(p.count, 10);
  p = query("<set xmlns='http://jabber.org/protocol/rsm'><max>3</max><before>s4</before></set>");
  EXPECT_EQ(ids(p), (std::vector<std::string>{"s1", "s2", "s3"}));
  EXPECT_EQ(p.first_index, 1);
  EXPECT_FALSE(p.complete);
  p = query(
      "<x xmlns='jabber:x:data' type='submit'><field var='{urn:xmpp:fulltext:0}fulltext'>"
      "<value>pineapple</value></field></x><set xmlns='http://jabber.org/protocol/rsm'>"
      "<max>2</max><before/></set>");
  EXPECT_EQ(ids(p), (std::vector<std::string>{"s7", "s9"}));
  EXPECT_EQ(p.count, 5);
  EXPECT_EQ(p.first_index, 3);
  p = query("<set xmlns='http://jabber.org/protocol/rsm'><after>nope</after></set>");
  EXPECT_EQ(p.missing_id, "nope");
}

TEST_F(ArchiveStore, CorrectionLinksAndRetractionTombstonesOnlyTheSendersMessage) {
  Row fix = row("fix", "corrected", kT0 + 1);
  fix.kind = Kind::correction;
  fix.replaces = "m-orig";
  Row steal = row("steal", "", kT0 + 2, "bob@example.com");
  steal.kind = Kind::retraction;
  steal.has_body = false;
  steal.replaces = "orig";
  Row gone = row("gone", "", kT0 + 3);
  gone.kind = Kind::retraction;
  gone.has_body = false;
  gone.replaces = "orig";
  insert({row("orig", "secret", kT0), fix, steal});
  EXPECT_EQ(scalar("SELECT replaces_archive_id = (SELECT id FROM archive WHERE stanza_id = "
                   "'orig') FROM archive WHERE stanza_id = 'fix'"),
            "t");
  EXPECT_EQ(scalar("SELECT tombstone FROM archive WHERE stanza_id = 'orig'"), "f");
  insert({gone});
  EXPECT_EQ(scalar("SELECT tombstone::text || coalesce(body, '-') || stanza FROM archive "
                   "WHERE stanza_id = 'orig'"),
            "true-");
  Page p = query("");
  ASSERT_EQ(p.items.size(), 4u);
  const Element& tomb = p.items[0].message;
  EXPECT_TRUE(tomb.child("retracted", "urn:xmpp:message-retract:1"));
  EXPECT_FALSE(tomb.child("body"));
  EXPECT_EQ(tomb.attr("from"), std::string(kRoomJid) + "/alice");
  EXPECT_EQ(tomb.child("stanza-id")->attr("id"), "orig");
}

// Purges before any fold, across the watermark, and entirely above it: the count a MAM query
// gives is the room's number of rows every time.
TEST_F(ArchiveStore, DeleteBatchKeepsTheCount) {
  std::vector<Row> rows;
  rows.reserve(7);
  for (int i = 0; i < 7; ++i)
    rows.push_back(row("s" + std::to_string(i), "x", kT0 + i));
  insert(rows);
  exec("UPDATE archive SET ts = now() - interval '3 days' WHERE stanza_id IN ('s0', 's1')");
  pqxx::work tx(*conn_);
  EXPECT_EQ(delete_batch(tx, room_, 2, 100), 2);  // older than 2 days
  EXPECT_EQ(delete_batch(tx, room_, 0, 3), 3);    // the oldest three of the rest
  tx.commit();
  EXPECT_EQ(scalar("SELECT string_agg(stanza_id, ',' ORDER BY id) FROM archive"), "s5,s6");
  Page p = query("<set xmlns='http://jabber.org/protocol/rsm'><before/></set>");
  EXPECT_EQ(p.count, 2);
  EXPECT_EQ(p.first_index, 0);
  EXPECT_TRUE(p.complete);

  fold_counts(*conn_, {room_});
  EXPECT_EQ(scalar("SELECT messages FROM archive_counts"), "2");
  insert({row("t0", "x", kT0 + 10), row("t1", "x", kT0 + 11), row("t2", "x", kT0 + 12)});
  EXPECT_EQ(query("<set xmlns='http://jabber.org/protocol/rsm'><before/></set>").count, 5);
  pqxx::work across(*conn_);
  EXPECT_EQ(delete_batch(across, room_, 0, 3), 3);  // s5, s6 (folded) and t0 (folded by it)
  across.commit();
  EXPECT_EQ(scalar("SELECT messages FROM archive_counts"), "2");
  p = query("<set xmlns='http://jabber.org/protocol/rsm'><max>1</max><before/></set>");
  EXPECT_EQ(p.count, 2);
  EXPECT_EQ(p.first_index, 1);
  fold_counts(*conn_, {room_});
  EXPECT_EQ(scalar("SELECT messages FROM archive_counts"), "2");
  EXPECT_EQ(query("<set xmlns='http://jabber.org/protocol/rsm'><before/></set>").count, 2);
}

// Folding moves a room's new rows into its count once: a second fold, or one for a room with
// nothing new or no longer there, changes nothing.
TEST_F(ArchiveStore, FoldCountsEachRowOnce) {
  insert({row("a", "one", kT0), row("b", "two", kT0 + 1)});
  fold_counts(*conn_, {room_, 424242});
  fold_counts(*conn_, {room_});
  EXPECT_EQ(scalar("SELECT messages || '/' || (upto = (SELECT max(id) FROM archive)) "
                   "FROM archive_counts"),
            "2/true");
  insert({row("c", "three", kT0 + 2)});
  insert({row("c", "three", kT0 + 2), row("d", "four", kT0 + 3)}, Source::replayed);
  EXPECT_EQ(query("<set xmlns='http://jabber.org/protocol/rsm'><max>0</max></set>").count, 4);
  fold_counts(*conn_, {room_});
  EXPECT_EQ(scalar("SELECT messages FROM archive_counts"), "4");
  EXPECT_EQ(query("<set xmlns='http://jabber.org/protocol/rsm'><max>0</max></set>").count, 4);
}

// The writer's tallies, batch by batch as Writer reports them to CountFolder: the first batch
// after a start claims nothing (counted in the table), later ones are trusted without reading
// their rows, and rows an earlier process left unfolded are found by the probe below a claim.
TEST_F(ArchiveStore, FoldTalliesKeepsCountsExact) {
  const std::int64_t left_unfolded = insert({row("a", "1", kT0), row("b", "2", kT0 + 1)});
  Tallies t;
  const std::int64_t first = insert({row("c", "3", kT0 + 2)});
  tally(t, {row("c", "3", kT0 + 2)}, -1, first);
  const std::vector<Row> second{row("d", "4", kT0 + 3), row("e", "5", kT0 + 4)};
  const std::int64_t last = insert(second);
  tally(t, second, first, last);
  fold_tallies(*conn_, t);
  EXPECT_EQ(counted(), "5/true");
  fold_tallies(*conn_, t);  // a retried fold adds nothing: its claims now lie below the mark
  EXPECT_EQ(counted(), "5/true");

  // A room deleted meanwhile is skipped, and one with rows not seen by this process (spool
  // replays) is counted in the table.
  t = {{424242, Tally{.rows = 3, .after = last, .upto = last + 3}}};
  const std::int64_t replayed =
      insert({row("e", "5", kT0 + 4), row("f", "6", kT0 + 5)}, Source::replayed);
  tally(t, {row("e", "5", kT0 + 4), row("f", "6", kT0 + 5)}, -1, replayed);
  fold_tallies(*conn_, t);
  EXPECT_EQ(counted(), "6/true");

  // A claim is trusted, not checked: the fast path reads no rows (this one claims 9 rows of
  // a range that holds 1, which the writer never does).
  t.clear();
  const std::vector<Row> third{row("g", "7", kT0 + 6)};
  tally(t, third, replayed, insert(third));
  t.at(room_).rows = 9;
  fold_tallies(*conn_, t);
  EXPECT_EQ(scalar("SELECT messages FROM archive_counts"), "15");
  EXPECT_GT(left_unfolded, 0);
}

// A purge between a batch and the fold of its tally: the purge folds the room first, so the
// tally's claim is overtaken and its fold counts what is left in the table instead of adding
// rows that are gone. (The purge deletes only up to the watermark its fold set: a row
// committed between the two statements is newer than the purge, stays, and is counted.)
TEST_F(ArchiveStore, APurgeOvertakesTheTalliesItDeletes) {
  const std::int64_t before = insert({row("a", "1", kT0)});
  Tallies t;
  const std::vector<Row> batch{row("b", "2", kT0 + 1), row("c", "3", kT0 + 2)};
  tally(t, batch, before, insert(batch));
  pqxx::work purge(*conn_);
  EXPECT_EQ(delete_batch(purge, room_, 0, 100), 3);
  purge.commit();
  fold_tallies(*conn_, t);
  EXPECT_EQ(scalar("SELECT messages FROM archive_counts"), "0");
  EXPECT_EQ(query("<set xmlns='http://jabber.org/protocol/rsm'><max>0</max></set>").count, 0);

  // The next batch's claim starts at the last one's upto, and holds again.
  const std::int64_t mark = t.at(room_).upto;
  t.clear();
  const std::vector<Row> next{row("d", "4", kT0 + 3)};
  tally(t, next, mark, insert(next));
  fold_tallies(*conn_, t);
  EXPECT_EQ(counted(), "1/true");
}

// A fold waits for a purge in flight (the counts lock) instead of counting rows it deletes.
TEST_F(ArchiveStore, AFoldWaitsForThePurgeInFlight) {
  const std::int64_t last =
      insert({row("a", "one", kT0), row("b", "two", kT0 + 1), row("c", "three", kT0 + 2)});
  pqxx::work purge(*conn_);
  EXPECT_EQ(delete_batch(purge, room_, 0, 100), 3);
  std::atomic<bool> folded = false;
  std::thread folder([&] {
    pqxx::connection other(conninfo());
    Tallies t;
    tally(t, {row("a", "one", kT0), row("b", "two", kT0 + 1), row("c", "three", kT0 + 2)}, 0, last);
    fold_tallies(other, t);
    fold_counts(other, {room_});
    folded = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(folded.load());  // blocked behind the purge
  purge.commit();
  folder.join();
  EXPECT_EQ(scalar("SELECT messages FROM archive_counts"), "0");  // nothing left to count
  EXPECT_EQ(query("<set xmlns='http://jabber.org/protocol/rsm'><max>0</max></set>").count, 0);
}

TEST_F(ArchiveStore, HistoryLimits) {
  Row subject = row("subj", "topic", kT0 + 2);
  subject.kind = Kind::subject;
  insert({row("a", "aaaa", kT0), row("b", "bbbb", kT0 + 1), subject, row("c", "cccc", kT0 + 3)});
  HistoryLimits lim;
  lim.max_stanzas = 2;
  auto h = read_history(*conn_, room_, kRoomJid, lim);
  ASSERT_EQ(h.size(), 2u);  // the subject is not history
  EXPECT_EQ(h[0].child_text("body"), "bbbb");
  EXPECT_EQ(h[1].child_text("body"), "cccc");
  // The stamp is the row's own time to the microsecond (its text form is stamp_test's job).
  EXPECT_EQ(parse_stamp(h[1].child("delay", "urn:xmpp:delay")->attr("stamp")), kT0 + 3);
  lim.max_stanzas = 10;
  lim.since_us = kT0 + 1;
  EXPECT_EQ(read_history(*conn_, room_, kRoomJid, lim).size(), 2u);
  lim.since_us.reset();
  lim.max_chars = h[1].xml().size();  // room for exactly the newest one
  h = read_history(*conn_, room_, kRoomJid, lim);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].child_text("body"), "cccc");
}

// A row whose stanza no longer parses (nested deeper than kMaxParseDepth, as a salond without
// the link's depth limit archived it) failed the whole read: history came back empty and every
// MAM page holding it was an internal-server-error. It is served as a placeholder with its
// stanza-id, sender and time, and counted once however often it is served.
TEST_F(ArchiveStore, AnUnparsableRowIsServedAsAPlaceholder) {
  Row bad = row("bad", "deep", kT0 + 1);
  bad.stanza = "<message type='groupchat'>";
  for (std::size_t i = 0; i <= kMaxParseDepth; ++i)
    bad.stanza += "<x>";
  for (std::size_t i = 0; i <= kMaxParseDepth; ++i)
    bad.stanza += "</x>";
  bad.stanza += "</message>";
  ASSERT_FALSE(parse_xml(bad.stanza));
  insert({row("a", "one", kT0), bad, row("c", "three", kT0 + 2)});
  Counter counter;
  Unreadable unreadable(&counter);
  auto e = parse_xml("<query xmlns='urn:xmpp:mam:2'/>");
  const MamQuery q = std::get<MamQuery>(parse_query(*e, kRoomJid));
  const Page p = run_query(*conn_, q, room_, kRoomJid, 50, &unreadable);
  ASSERT_EQ(ids(p), (std::vector<std::string>{"a", "bad", "c"}));
  const Element& m = p.items[1].message;
  EXPECT_EQ(p.items[1].ts_us, kT0 + 1);  // MAM's <delay/> carries the original time
  EXPECT_EQ(m.attr("from"), std::string(kRoomJid) + "/alice");
  EXPECT_EQ(m.attr("type"), "groupchat");
  EXPECT_EQ(m.attr("xmlns"), "jabber:client");
  EXPECT_EQ(m.child_text("body"), kUnreadableBody);
  ASSERT_TRUE(m.child("stanza-id", "urn:xmpp:sid:0"));
  EXPECT_EQ(m.child("stanza-id", "urn:xmpp:sid:0")->attr("id"), "bad");
  EXPECT_EQ(m.child("stanza-id", "urn:xmpp:sid:0")->attr("by"), kRoomJid);
  EXPECT_EQ(m.child("occupant-id", "urn:xmpp:occupant-id:0")->attr("id"), "occ-alice");
  const auto h = read_history(*conn_, room_, kRoomJid, HistoryLimits{}, &unreadable);
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].child_text("body"), "one");
  EXPECT_EQ(h[1].child_text("body"), kUnreadableBody);
  EXPECT_EQ(parse_stamp(h[1].child("delay", "urn:xmpp:delay")->attr("stamp")), kT0 + 1);
  EXPECT_EQ(counter.value(), 1u);  // served twice, one row
}

}  // namespace
}  // namespace salon::archive
