// SPDX-License-Identifier: GPL-3.0-or-later
#include "pending.hpp"

#include <pqxx/pqxx>

#include "core/stamp.hpp"
#include "db/pg_array.hpp"
#include "journal/netstring.hpp"

namespace salon::email {
namespace {

// Rows in message order; the first missed message of a member wins (ON CONFLICT keeps the
// row that is there, and within one statement the earlier ordinal is inserted first).
constexpr const char* kMissed =
    "INSERT INTO email_pending (room_id, jid, first_stanza_id, since, due_at) "
    "SELECT m.room_id, m.jid, nullif(m.sid, ''), m.at, "
    "  greatest(m.at + make_interval(secs => coalesce(p.delay_seconds, $5)), "
    "           coalesce(t.next_allowed_at, m.at)) "
    "FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[]) WITH ORDINALITY "
    "  AS m(room_id, jid, sid, at, ord) "
    "JOIN affiliations a ON a.room_id = m.room_id AND a.jid = m.jid "
    "LEFT JOIN email_prefs p ON p.jid = m.jid "
    "LEFT JOIN email_throttle t ON t.room_id = m.room_id AND t.jid = m.jid "
    "WHERE coalesce(a.email, '') <> '' AND a.affiliation IN ('owner', 'admin', 'member') "
    "  AND coalesce(p.mode, 'digest') = 'digest' "
    "  AND NOT EXISTS (SELECT 1 FROM email_mutes u WHERE u.room_id = m.room_id AND u.jid = m.jid) "
    "ORDER BY m.ord "
    "ON CONFLICT (room_id, jid) DO NOTHING";

// One statement: rows nobody claimed go; rows a digest in flight claimed are flagged (the
// sender checks the flag just before it sends).
constexpr const char* kCancel =
    "WITH c AS (SELECT * FROM unnest($1::bigint[], $2::text[]) AS c(room_id, jid)), "
    "gone AS (DELETE FROM email_pending e USING c "
    "  WHERE e.room_id = c.room_id AND e.jid = c.jid AND e.claimed_by IS NULL RETURNING 1) "
    "UPDATE email_pending e SET cancelled = true FROM c "
    "WHERE e.room_id = c.room_id AND e.jid = c.jid AND e.claimed_by IS NOT NULL";

std::int64_t run(pqxx::dbtransaction& tx, PendingOp::Kind kind,
                 std::span<const PendingOp* const> ops, std::int64_t delay_s) {
  db::ArrayText rooms, jids, sids, ats;
  for (const PendingOp* op : ops) {
    rooms.add(op->room_id);
    jids.add(op->jid);
    if (kind == PendingOp::Kind::missed) {
      sids.add(op->stanza_id);
      ats.add(format_stamp(op->at_us));
    }
  }
  if (kind == PendingOp::Kind::cancel) {
    tx.exec_params0(kCancel, rooms.done(), jids.done());
    return 0;
  }
  const pqxx::result r =
      tx.exec_params(kMissed, rooms.done(), jids.done(), sids.done(), ats.done(), delay_s);
  return static_cast<std::int64_t>(r.affected_rows());
}

}  // namespace

std::string encode_op(const PendingOp& op) {
  std::string out;
  journal::put_netstring(out, op.kind == PendingOp::Kind::missed ? "m" : "c");
  journal::put_netstring(out, std::to_string(op.room_id));
  journal::put_netstring(out, op.jid);
  journal::put_netstring(out, op.stanza_id);
  journal::put_netstring(out, std::to_string(op.at_us));
  return out;
}

std::optional<PendingOp> decode_op(std::string_view bytes) {
  std::string f[5];
  std::size_t pos = 0;
  for (auto& s : f)
    if (!journal::get_netstring(bytes, pos, s)) return std::nullopt;
  PendingOp op;
  if (pos != bytes.size() || (f[0] != "m" && f[0] != "c") ||
      !journal::parse_int64(f[1], op.room_id) || !journal::parse_int64(f[4], op.at_us) ||
      f[2].empty())
    return std::nullopt;
  op.kind = f[0] == "m" ? PendingOp::Kind::missed : PendingOp::Kind::cancel;
  op.jid = std::move(f[2]);
  op.stanza_id = std::move(f[3]);
  return op;
}

PendingTable::PendingTable(std::chrono::seconds default_delay,
                           std::function<void(Rows, std::int64_t)> committed,
                           std::function<void()> unsure)
    : TableOf("email_pending"),
      delay_s_(default_delay.count()),
      committed_(std::move(committed)),
      unsure_(std::move(unsure)) {}

// Runs of one kind, in order: a cancel then a miss of the same member in one batch leaves a
// fresh pending row, a miss then a cancel leaves none, as on the loop.
std::int64_t PendingTable::insert_rows(pqxx::dbtransaction& tx, Rows rows, journal::Source) {
  std::int64_t enqueued = 0;
  std::size_t begin = 0;
  while (begin < rows.size()) {
    std::size_t end = begin;
    while (end < rows.size() && rows[end]->kind == rows[begin]->kind)
      ++end;
    enqueued += run(tx, rows[begin]->kind, rows.subspan(begin, end - begin), delay_s_.load());
    begin = end;
  }
  return enqueued;
}

}  // namespace salon::email
