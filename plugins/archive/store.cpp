// SPDX-License-Identifier: GPL-3.0-or-later
#include "store.hpp"

#include <fmt/format.h>
#include <pqxx/pqxx>
#include <pqxx/tablewriter>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <unordered_set>

#include "core/stamp.hpp"
#include "core/xml_parse.hpp"
#include "unreadable.hpp"

namespace salon::archive {
namespace {

// A PostgreSQL array literal for one bound parameter: a whole batch is one statement
// (INSERT ... SELECT FROM unnest) instead of one round trip per row. libpqxx 6.4 cannot
// write arrays. Elements are quoted (only '"' and '\' need escaping); NULL is unquoted.
class ArrayText {
public:
  void add(std::string_view v) {
    sep();
    out_ += '"';
    for (char c : v) {
      if (c == '"' || c == '\\') out_ += '\\';
      out_ += c;
    }
    out_ += '"';
  }
  void add_null() {
    sep();
    out_ += "NULL";
  }
  std::string done() { return out_ + "}"; }

private:
  void sep() {
    if (out_.size() > 1) out_ += ',';
  }
  std::string out_ = "{";
};

// Held (shared) by every batch, taken exclusively by a DELETE on rooms (schemas/004): a batch
// sees either the room or its deletion, never lands rows for a room deleted meanwhile.
constexpr const char* kLockRooms = "SELECT pg_advisory_xact_lock_shared(126862268263937)";

// Serialises folding recent rows into archive_counts with purges (schemas/005): a fold must
// not count rows that a purge in flight is deleting above the watermark.
constexpr const char* kLockCounts = "SELECT pg_advisory_xact_lock(126862268263938)";

// Replayed spool rows may be stored already (the spool is replayed from its last confirmed
// point): ON CONFLICT (stanza_id) makes that harmless.
constexpr const char* kInsertReplayed =
    "INSERT INTO archive (room_id, stanza_id, ts, kind, nick, sender_jid, "
    "occupant_id, msg_id, body, stanza, replaces) "
    "SELECT r, s, t, k, n, j, o, m, b, x, p FROM unnest($1::bigint[], $2::text[], "
    "$3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], "
    "$10::text[], $11::text[]) WITH ORDINALITY AS u(r, s, t, k, n, j, o, m, b, x, p, ord) "
    "WHERE EXISTS (SELECT 1 FROM rooms WHERE rooms.id = u.r) "  // deleted meanwhile: dropped
    "ORDER BY ord "
    "ON CONFLICT (stanza_id) DO NOTHING";

// Moves each room's rows above its watermark into its count. Only the writer inserts into
// archive, one transaction after the other, so a row not yet committed has a higher id than
// every committed one: nothing above the new watermark can turn up later below it.
constexpr const char* kFold =
    "INSERT INTO archive_counts (room_id, messages, upto) "
    "SELECT r.id, d.n, d.m FROM rooms r LEFT JOIN archive_counts c ON c.room_id = r.id "
    "CROSS JOIN LATERAL (SELECT count(*) AS n, max(a.id) AS m FROM archive a "
    "WHERE a.room_id = r.id AND a.id > coalesce(c.upto, 0)) d "
    "WHERE r.id = ANY($1::bigint[]) AND d.n > 0 "
    "ON CONFLICT (room_id) DO UPDATE "
    "SET messages = archive_counts.messages + excluded.messages, upto = excluded.upto";

// The writer's tallies (store.hpp, Tally). A claim holds while nothing moved the watermark
// past `after`: then the rows between the watermark and `after` (normally none: an index
// probe) plus the tallied rows are what the room gained. Otherwise count up to `upto`.
constexpr const char* kFoldTallies =
    "INSERT INTO archive_counts (room_id, messages, upto) "
    "SELECT t.r, CASE WHEN coalesce(c.upto, 0) <= t.a THEN t.n + "
    "(SELECT count(*) FROM archive x WHERE x.room_id = t.r "
    "AND x.id > coalesce(c.upto, 0) AND x.id <= t.a) "
    "ELSE (SELECT count(*) FROM archive x WHERE x.room_id = t.r "
    "AND x.id > coalesce(c.upto, 0) AND x.id <= t.u) END, "
    "greatest(coalesce(c.upto, 0), t.u) "
    "FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) AS t(r, n, a, u) "
    "JOIN rooms ON rooms.id = t.r LEFT JOIN archive_counts c ON c.room_id = t.r "
    "ON CONFLICT (room_id) DO UPDATE "
    "SET messages = archive_counts.messages + excluded.messages, upto = excluded.upto";

// Read after a batch's inserts: nextval() is not rolled back and only the writer calls it,
// so this is the highest id the batch can have used. NULL before the first row ever.
constexpr const char* kLastArchiveId =
    "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('archive', 'id')::regclass), "
    "0)";

// A room's message count: folded rows plus the rows above the watermark.
constexpr const char* kRoomCount =
    "SELECT coalesce(c.messages, 0) + (SELECT count(*) FROM archive a "
    "WHERE a.room_id = $1 AND a.id > coalesce(c.upto, 0)) "
    "FROM (SELECT $1::bigint AS room_id) r LEFT JOIN archive_counts c USING (room_id)";

// A correction points at the newest earlier message of the same sender with that id.
constexpr const char* kLinkCorrection =
    "UPDATE archive c SET replaces_archive_id = (SELECT o.id FROM archive o "
    "WHERE o.room_id = c.room_id AND o.sender_jid = c.sender_jid AND o.id < c.id "
    "AND (o.msg_id = c.replaces OR o.stanza_id = c.replaces) ORDER BY o.id DESC LIMIT 1) "
    "WHERE c.stanza_id = $1";

// XEP-0424: only the sender retracts; the original keeps its place and ids, its content goes.
constexpr const char* kRetract =
    "WITH target AS (SELECT o.room_id, o.id FROM archive o, archive r WHERE r.stanza_id = $1 "
    "AND o.room_id = r.room_id AND o.sender_jid = r.sender_jid AND o.id < r.id "
    "AND o.kind <> 'retraction' AND (o.stanza_id = r.replaces OR o.msg_id = r.replaces) "
    "ORDER BY o.id DESC LIMIT 1), "
    "link AS (UPDATE archive SET replaces_archive_id = (SELECT id FROM target) "
    "WHERE stanza_id = $1) "
    "UPDATE archive SET tombstone = true, body = NULL, stanza = '', retracted_at = $2 "
    "WHERE (room_id, id) = (SELECT room_id, id FROM target)";  // the primary key

constexpr const char* kItemColumns =
    "id, stanza_id, (extract(epoch FROM ts) * 1000000)::bigint, stanza, tombstone, nick, "
    "occupant_id, (extract(epoch FROM retracted_at) * 1000000)::bigint";

Element tombstone(const pqxx::row& r, const std::string& room_jid) {
  Element t("retracted", ns::retract);
  if (!r[7].is_null()) t.set_attr("stamp", format_stamp(r[7].as<std::int64_t>()));
  return stand_in(room_jid, r[5].as<std::string>(), std::move(t), r[1].as<std::string>(),
                  r[6].as<std::string>());
}

Item to_item(const pqxx::row& r, std::int64_t room_id, const std::string& room_jid,
             Unreadable* unreadable) {
  Item it;
  it.id = r[0].as<std::int64_t>();
  it.stanza_id = r[1].as<std::string>();
  it.ts_us = r[2].as<std::int64_t>();
  if (r[4].as<bool>()) {
    it.message = tombstone(r, room_jid);
  } else if (auto parsed = parse_xml(r[3].as<std::string>())) {
    it.message = std::move(*parsed);
    // Forwarded inside urn:xmpp:forward:0: the namespace must be explicit.
    it.message.set_attr("xmlns", std::string(ns::client));
  } else {
    it.message = unreadable_placeholder(room_jid, r[5].as<std::string>(), it.stanza_id,
                                        r[6].as<std::string>());
    if (unreadable) unreadable->report(room_id, it.stanza_id, r[3].size());
  }
  return it;
}

}  // namespace

namespace {

void insert_replayed(pqxx::dbtransaction& tx, RowRefs rows) {
  ArrayText room, sid, ts, kind, nick, jid, occ, mid, body, stanza, repl;
  for (const Row* row : rows) {
    const Row& r = *row;
    room.add(std::to_string(r.room_id));
    sid.add(r.stanza_id);
    ts.add(format_stamp(r.ts_us));
    kind.add(to_string(r.kind));
    nick.add(r.nick);
    jid.add(r.sender_jid);
    occ.add(r.occupant_id);
    r.msg_id.empty() ? mid.add_null() : mid.add(r.msg_id);
    r.has_body ? body.add(r.body) : body.add_null();
    stanza.add(r.stanza);
    r.replaces.empty() ? repl.add_null() : repl.add(r.replaces);
  }
  tx.exec_params0(kInsertReplayed, room.done(), sid.done(), ts.done(), kind.done(), nick.done(),
                  jid.done(), occ.done(), mid.done(), body.done(), stanza.done(), repl.done());
}

// The batch's rooms that exist; under kLockRooms they stay until the commit.
std::unordered_set<std::int64_t> existing_rooms(pqxx::dbtransaction& tx, RowRefs rows) {
  std::unordered_set<std::int64_t> wanted;
  ArrayText ids;
  for (const Row* r : rows)
    if (wanted.insert(r->room_id).second) ids.add(std::to_string(r->room_id));
  std::unordered_set<std::int64_t> found;
  for (const auto& row :
       tx.exec_params("SELECT id FROM rooms WHERE id = ANY($1::bigint[])", ids.done()))
    found.insert(row[0].as<std::int64_t>());
  return found;
}

// One COPY text-format line (PostgreSQL's "COPY ... FROM STDIN", text format): fields
// separated by tabs, backslash escapes for backslash and the control characters, \N for NULL.
// Runs without special characters are appended in one piece; libpqxx's stream_to escaped
// character by character and cost as much CPU as the rest of the writer thread.
class CopyLine {
public:
  CopyLine& field(std::string_view v) {
    sep();
    std::size_t start = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
      i = plain_prefix(v, i);
      if (i == v.size()) break;
      const char c = v[i];
      line_.append(v, start, i - start);
      line_ += '\\';
      switch (c) {
        case '\\': line_ += '\\'; break;
        case '\n': line_ += 'n'; break;
        case '\r': line_ += 'r'; break;
        case '\t': line_ += 't'; break;
        default: fmt::format_to(std::back_inserter(line_), "{:03o}", static_cast<unsigned char>(c));
      }
      start = i + 1;
    }
    line_.append(v, start);
    return *this;
  }
  CopyLine& field_or_null(std::string_view v, bool present) {
    if (present) return field(v);
    sep();
    line_ += "\\N";
    return *this;
  }
  [[nodiscard]] const std::string& str() const { return line_; }
  void clear() {  // for the next row; keeps the buffer
    line_.clear();
    first_ = true;
  }

private:
  // From `i`, the first index of v that needs escaping (or v.size()), eight bytes at a time:
  // a word is skipped when none of its bytes is below 0x20 or a backslash. Stanzas rarely
  // hold either, and the per-character loop was most of the writer thread's own CPU.
  static std::size_t plain_prefix(std::string_view v, std::size_t i) {
    constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    for (; i + 8 <= v.size(); i += 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, v.data() + i, 8);
      const std::uint64_t below_space = (w - 0x20 * ones) & ~w & highs;
      const std::uint64_t b = w ^ (0x5C * ones);  // a backslash byte becomes zero
      const std::uint64_t backslash = (b - ones) & ~b & highs;
      if (below_space | backslash) break;
    }
    for (; i < v.size(); ++i) {
      const auto c = static_cast<unsigned char>(v[i]);
      if (c < 0x20 || c == '\\') break;
    }
    return i;
  }

  void sep() {
    if (!first_) line_ += '\t';
    first_ = false;
  }
  std::string line_;
  bool first_ = true;
};

// Live rows carry stanza-ids minted for them, so they cannot be stored already: COPY, the
// cheapest way into PostgreSQL (no statement per row, no conflict check, no array parsing).
void copy_live(pqxx::dbtransaction& tx, RowRefs rows) {
  const auto rooms = existing_rooms(tx, rows);
  // tablewriter is deprecated in favour of stream_to, but only it takes a preformatted line.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  const std::vector<std::string> columns{"room_id", "stanza_id",  "ts",          "kind",
                                         "nick",    "sender_jid", "occupant_id", "msg_id",
                                         "body",    "stanza",     "replaces"};
  pqxx::tablewriter out(tx, "archive", columns.begin(), columns.end());
#pragma GCC diagnostic pop
  CopyLine line;
  for (const Row* row : rows) {
    const Row& r = *row;
    if (!rooms.contains(r.room_id)) continue;  // deleted meanwhile: its archive went with it
    line.clear();
    line.field(std::to_string(r.room_id)).field(r.stanza_id).field(format_stamp(r.ts_us));
    line.field(to_string(r.kind)).field(r.nick).field(r.sender_jid).field(r.occupant_id);
    line.field_or_null(r.msg_id, !r.msg_id.empty()).field_or_null(r.body, r.has_body);
    line.field(r.stanza).field_or_null(r.replaces, !r.replaces.empty());
    out.write_raw_line(line.str());
  }
  out.complete();
}

}  // namespace

std::int64_t insert_rows(pqxx::dbtransaction& tx, RowRefs rows, Source source) {
  tx.exec(kLockRooms);
  if (source == Source::replayed)
    insert_replayed(tx, rows);
  else
    copy_live(tx, rows);
  for (const Row* r : rows) {
    if (r->kind == Kind::correction) tx.exec_params0(kLinkCorrection, r->stanza_id);
    if (r->kind == Kind::retraction)
      tx.exec_params0(kRetract, r->stanza_id, format_stamp(r->ts_us));
  }
  return tx.exec1(kLastArchiveId)[0].as<std::int64_t>();
}

namespace {

bool unfiltered(const MamQuery& q) {
  return !q.start_us && !q.end_us && !q.with_jid && !q.with_nick && !q.after_id && !q.before_id &&
         q.ids.empty() && !q.fulltext;
}

// RSM <count/> and the <first index/>. The whole room (the usual query) takes its count from
// archive_counts plus the rows not folded into it yet (kRoomCount) instead of counting all
// the room's rows; its last page's index follows from it.
void count_page(pqxx::transaction_base& tx, const MamQuery& q, const Bounds& b,
                std::int64_t room_id, Page& page) {
  const std::int64_t first = page.items.empty() ? 0 : page.items.front().id;
  if (!unfiltered(q)) {
    Sql count;
    count.add(std::to_string(room_id));
    const std::string f = count.add(std::to_string(first));
    count.text = "SELECT count(*), count(*) FILTER (WHERE id < " + f + "::bigint) FROM archive";
    add_filters(count, q, b);
    const auto c = tx.exec_params1(count.text, pqxx::prepare::make_dynamic_params(count.params));
    page.count = c[0].as<std::int64_t>();
    page.first_index = c[1].as<std::int64_t>();
    return;
  }
  page.count = tx.exec_params1(kRoomCount, room_id)[0].as<std::int64_t>();
  const auto n = static_cast<std::int64_t>(page.items.size());
  if (page.items.empty())
    page.first_index = 0;
  else if (q.backward() && q.rsm_before->empty())
    page.first_index = page.count - n;
  else if (!q.backward() && !q.rsm_after)
    page.first_index = static_cast<std::int64_t>(q.index.value_or(0));
  else
    page.first_index =
        tx.exec_params1("SELECT count(*) FROM archive WHERE room_id = $1 AND id < $2", room_id,
                        first)[0]
            .as<std::int64_t>();
}

}  // namespace

Page run_query(pqxx::connection_base& conn, const MamQuery& q, std::int64_t room_id,
               const std::string& room_jid, std::size_t limit, Unreadable* unreadable) {
  // One snapshot for the page and its count/index.
  pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn, "mam");
  Page page;
  Bounds b;
  for (const std::string& id : q.referenced_ids()) {
    const auto r =
        tx.exec_params("SELECT id FROM archive WHERE stanza_id = $1 AND room_id = $2", id, room_id);
    if (r.empty()) {
      page.missing_id = id;
      return page;
    }
    const auto v = r[0][0].as<std::int64_t>();
    if (q.after_id && id == *q.after_id) b.after = v;
    if (q.before_id && id == *q.before_id) b.before = v;
    if (q.rsm_after && id == *q.rsm_after) b.rsm_after = v;
    if (q.rsm_before && id == *q.rsm_before) b.rsm_before = v;
  }
  const Sql sql = page_sql(q, b, room_id, limit, kItemColumns);
  const auto rows = tx.exec_params(sql.text, pqxx::prepare::make_dynamic_params(sql.params));
  for (const auto& r : rows) {
    if (page.items.size() == limit) break;
    page.items.push_back(to_item(r, room_id, room_jid, unreadable));
  }
  page.complete = rows.size() <= limit;
  if (q.backward()) std::reverse(page.items.begin(), page.items.end());

  count_page(tx, q, b, room_id, page);
  return page;
}

namespace {

// kFold for these rooms, in the caller's transaction (which holds kLockCounts).
void fold_rooms(pqxx::transaction_base& tx, const std::vector<std::int64_t>& room_ids) {
  ArrayText ids;
  for (const std::int64_t id : room_ids)
    ids.add(std::to_string(id));
  tx.exec_params0(kFold, ids.done());
}

}  // namespace

std::int64_t delete_batch(pqxx::transaction_base& tx, std::int64_t room_id, std::int64_t days,
                          std::int64_t limit) {
  tx.exec(kLockCounts);  // first: the statements after it must see any fold committed
  // Folded first, so that every row deleted is counted: the writer's tallies claim rows above
  // the watermark as not deleted (kFoldTallies). Data-modifying CTEs all run, referenced or
  // not: the count follows the delete.
  fold_rooms(tx, {room_id});
  return tx
      .exec_params1(
          "WITH del AS (DELETE FROM archive WHERE room_id = $1 AND id IN (SELECT id FROM archive "
          "WHERE room_id = $1 AND id <= (SELECT upto FROM archive_counts WHERE room_id = $1) "
          "AND ($2::integer = 0 OR ts < now() - make_interval(days => $2::integer)) "
          "ORDER BY id LIMIT $3) RETURNING id), "
          "n AS (SELECT count(*) AS k FROM del), "
          "upd AS (UPDATE archive_counts SET messages = messages - (SELECT k FROM n) "
          "WHERE room_id = $1) "
          "SELECT k FROM n",
          room_id, days, limit)[0]
      .as<std::int64_t>();
}

void fold_counts(pqxx::connection_base& conn, const std::vector<std::int64_t>& room_ids) {
  if (room_ids.empty()) return;
  pqxx::work tx(conn, "archive_fold");
  tx.exec(kLockCounts);
  fold_rooms(tx, room_ids);
  tx.commit();
}

void fold_tallies(pqxx::connection_base& conn, const Tallies& tallies) {
  if (tallies.empty()) return;
  ArrayText room, rows, after, upto;
  for (const auto& [id, t] : tallies) {
    room.add(std::to_string(id));
    rows.add(std::to_string(t.rows));
    after.add(std::to_string(t.after));
    upto.add(std::to_string(t.upto));
  }
  pqxx::work tx(conn, "archive_fold_tallies");
  tx.exec(kLockCounts);
  tx.exec_params0(kFoldTallies, room.done(), rows.done(), after.done(), upto.done());
  tx.commit();
}

Metadata read_metadata(pqxx::connection_base& conn, std::int64_t room_id) {
  pqxx::read_transaction tx(conn, "mam_metadata");
  Metadata md;
  const auto one = [&](const char* order) -> std::optional<Item> {
    const auto r = tx.exec_params(
        std::string("SELECT id, stanza_id, (extract(epoch FROM ts) * 1000000)::bigint "
                    "FROM archive WHERE room_id = $1 ORDER BY id ") +
            order + " LIMIT 1",
        room_id);
    if (r.empty()) return std::nullopt;
    Item it;
    it.id = r[0][0].as<std::int64_t>();
    it.stanza_id = r[0][1].as<std::string>();
    it.ts_us = r[0][2].as<std::int64_t>();
    return it;
  };
  md.first = one("ASC");
  md.last = one("DESC");
  return md;
}

std::vector<Element> read_history(pqxx::connection_base& conn, std::int64_t room_id,
                                  const std::string& room_jid, const HistoryLimits& lim,
                                  Unreadable* unreadable) {
  pqxx::read_transaction tx(conn, "history");
  const auto rows = tx.exec_params(
      std::string("SELECT ") + kItemColumns +
          " FROM archive WHERE room_id = $1 AND kind <> 'subject' AND NOT tombstone "
          "AND ($2 = '' OR ts >= NULLIF($2, '')::timestamptz) ORDER BY id DESC LIMIT $3",
      room_id, lim.since_us ? format_stamp(*lim.since_us) : std::string(),
      static_cast<std::int64_t>(lim.max_stanzas));
  std::vector<Element> out;
  std::size_t chars = 0;
  for (const auto& r : rows) {  // newest first: maxchars keeps the most recent ones
    Item it = to_item(r, room_id, room_jid, unreadable);
    it.message.remove_attr("xmlns");
    Element& d = it.message.add_child("delay", ns::delay);
    d.set_attr("from", room_jid);
    d.set_attr("stamp", format_stamp(it.ts_us));
    if (lim.max_chars) {
      chars += it.message.xml().size();
      if (chars > *lim.max_chars) break;
    }
    out.push_back(std::move(it.message));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace salon::archive
