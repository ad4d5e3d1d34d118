// SPDX-License-Identifier: GPL-3.0-or-later
#include "store.hpp"

#include <pqxx/pqxx>

#include <algorithm>

#include "core/xml_parse.hpp"
#include "stamp.hpp"

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

// The inserted rows also count towards archive_counts (same statement, same transaction).
constexpr const char* kInsert =
    "WITH ins AS (INSERT INTO archive (room_id, stanza_id, ts, kind, nick, sender_jid, "
    "occupant_id, msg_id, body, stanza, replaces) "
    "SELECT r, s, t, k, n, j, o, m, b, x, p FROM unnest($1::bigint[], $2::text[], "
    "$3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], "
    "$10::text[], $11::text[]) WITH ORDINALITY AS u(r, s, t, k, n, j, o, m, b, x, p, ord) "
    "WHERE EXISTS (SELECT 1 FROM rooms WHERE rooms.id = u.r) "  // deleted meanwhile: dropped
    "ORDER BY ord "
    "ON CONFLICT (stanza_id) DO NOTHING RETURNING room_id) "
    "INSERT INTO archive_counts (room_id, messages) "
    "SELECT room_id, count(*) FROM ins GROUP BY room_id "
    "ON CONFLICT (room_id) DO UPDATE SET messages = archive_counts.messages + excluded.messages";

// A correction points at the newest earlier message of the same sender with that id.
constexpr const char* kLinkCorrection =
    "UPDATE archive c SET replaces_archive_id = (SELECT o.id FROM archive o "
    "WHERE o.room_id = c.room_id AND o.sender_jid = c.sender_jid AND o.id < c.id "
    "AND (o.msg_id = c.replaces OR o.stanza_id = c.replaces) ORDER BY o.id DESC LIMIT 1) "
    "WHERE c.stanza_id = $1";

// XEP-0424: only the sender retracts; the original keeps its place and ids, its content goes.
constexpr const char* kRetract =
    "WITH target AS (SELECT o.id FROM archive o, archive r WHERE r.stanza_id = $1 "
    "AND o.room_id = r.room_id AND o.sender_jid = r.sender_jid AND o.id < r.id "
    "AND o.kind <> 'retraction' AND (o.stanza_id = r.replaces OR o.msg_id = r.replaces) "
    "ORDER BY o.id DESC LIMIT 1), "
    "link AS (UPDATE archive SET replaces_archive_id = (SELECT id FROM target) "
    "WHERE stanza_id = $1) "
    "UPDATE archive SET tombstone = true, body = NULL, stanza = '', retracted_at = $2 "
    "WHERE id = (SELECT id FROM target)";

constexpr const char* kItemColumns =
    "id, stanza_id, (extract(epoch FROM ts) * 1000000)::bigint, stanza, tombstone, nick, "
    "occupant_id, (extract(epoch FROM retracted_at) * 1000000)::bigint";

Element tombstone(const pqxx::row& r, const std::string& room_jid) {
  Element m("message", ns::client);
  m.set_attr("type", "groupchat");
  m.set_attr("from", room_jid + "/" + r[5].as<std::string>());
  Element& t = m.add_child("retracted", ns::retract);
  if (!r[7].is_null()) t.set_attr("stamp", format_stamp(r[7].as<std::int64_t>()));
  m.add_child("stanza-id", ns::sid).set_attr("id", r[1].as<std::string>()).set_attr("by", room_jid);
  m.add_child("occupant-id", ns::occupant_id).set_attr("id", r[6].as<std::string>());
  return m;
}

Item to_item(const pqxx::row& r, const std::string& room_jid) {
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
    throw std::runtime_error("archived stanza " + it.stanza_id + " does not parse");
  }
  return it;
}

}  // namespace

void insert_rows(pqxx::dbtransaction& tx, const std::vector<Row>& rows) {
  ArrayText room, sid, ts, kind, nick, jid, occ, mid, body, stanza, repl;
  for (const Row& r : rows) {
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
  tx.exec_params0(kInsert, room.done(), sid.done(), ts.done(), kind.done(), nick.done(), jid.done(),
                  occ.done(), mid.done(), body.done(), stanza.done(), repl.done());
  for (const Row& r : rows) {
    if (r.kind == Kind::correction) tx.exec_params0(kLinkCorrection, r.stanza_id);
    if (r.kind == Kind::retraction) tx.exec_params0(kRetract, r.stanza_id, format_stamp(r.ts_us));
  }
}

namespace {

bool unfiltered(const MamQuery& q) {
  return !q.start_us && !q.end_us && !q.with_jid && !q.with_nick && !q.after_id && !q.before_id &&
         q.ids.empty() && !q.fulltext;
}

// RSM <count/> and the <first index/>. The whole room (the usual query) takes its count from
// archive_counts instead of counting the room's rows; its last page's index follows from it.
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
  page.count = tx.exec_params1(
                     "SELECT coalesce((SELECT messages FROM archive_counts "
                     "WHERE room_id = $1), 0)",
                     room_id)[0]
                   .as<std::int64_t>();
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
               const std::string& room_jid, std::size_t limit) {
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
    page.items.push_back(to_item(r, room_jid));
  }
  page.complete = rows.size() <= limit;
  if (q.backward()) std::reverse(page.items.begin(), page.items.end());

  count_page(tx, q, b, room_id, page);
  return page;
}

std::int64_t delete_batch(pqxx::transaction_base& tx, std::int64_t room_id, std::int64_t days,
                          std::int64_t limit) {
  // Data-modifying CTEs all run, referenced or not: the count follows the delete.
  return tx
      .exec_params1(
          "WITH del AS (DELETE FROM archive WHERE id IN (SELECT id FROM archive "
          "WHERE room_id = $1 AND ($2::integer = 0 OR ts < now() - make_interval(days => "
          "$2::integer)) ORDER BY id LIMIT $3) RETURNING 1), "
          "n AS (SELECT count(*) AS c FROM del), "
          "upd AS (UPDATE archive_counts SET messages = messages - (SELECT c FROM n) "
          "WHERE room_id = $1) "
          "SELECT c FROM n",
          room_id, days, limit)[0]
      .as<std::int64_t>();
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
                                  const std::string& room_jid, const HistoryLimits& lim) {
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
    Item it = to_item(r, room_jid);
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
