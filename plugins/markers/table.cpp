// SPDX-License-Identifier: GPL-3.0-or-later
#include "table.hpp"

#include <map>
#include <utility>

#include <pqxx/pqxx>

#include "core/stamp.hpp"
#include "db/pg_array.hpp"
#include "journal/netstring.hpp"

namespace salon::markers {
namespace {

// Positions only move forward (WHERE ... <), and rooms deleted meanwhile are skipped (JOIN):
// a flush never fails for a room the API deleted while it waited.
constexpr const char* kUpsert =
    "INSERT INTO read_state (room_id, jid, stanza_id, read_at) "
    "SELECT m.room_id, m.jid, m.sid, m.at "
    "FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[]) "
    "AS m(room_id, jid, sid, at) JOIN rooms r ON r.id = m.room_id "
    "ON CONFLICT (room_id, jid) DO UPDATE "
    "SET stanza_id = excluded.stanza_id, read_at = excluded.read_at, updated_at = now() "
    "WHERE read_state.read_at < excluded.read_at";

}  // namespace

std::string encode_position(const Position& p) {
  std::string out;
  journal::put_netstring(out, std::to_string(p.room_id));
  journal::put_netstring(out, p.jid);
  journal::put_netstring(out, p.stanza_id);
  journal::put_netstring(out, std::to_string(p.at_us));
  return out;
}

std::optional<Position> decode_position(std::string_view bytes) {
  std::string f[4];
  std::size_t pos = 0;
  for (auto& s : f)
    if (!journal::get_netstring(bytes, pos, s)) return std::nullopt;
  Position p;
  if (pos != bytes.size() || !journal::parse_int64(f[0], p.room_id) ||
      !journal::parse_int64(f[3], p.at_us) || f[1].empty())
    return std::nullopt;
  p.jid = std::move(f[1]);
  p.stanza_id = std::move(f[2]);
  return p;
}

std::int64_t ReadStateTable::insert_rows(pqxx::dbtransaction& tx, Rows rows, journal::Source) {
  // One row per (room, member) in the statement: ON CONFLICT DO UPDATE may not touch a row
  // twice, and two flushes (or a replay) can share a batch. The latest position wins.
  std::map<std::pair<std::int64_t, std::string_view>, const Position*> latest;
  for (const Position* p : rows) {
    auto [it, fresh] = latest.try_emplace({p->room_id, p->jid}, p);
    if (!fresh && it->second->at_us < p->at_us) it->second = p;
  }
  db::ArrayText rooms, jids, ids, ats;
  for (const auto& [key, p] : latest) {
    rooms.add(p->room_id);
    jids.add(p->jid);
    ids.add(p->stanza_id);
    ats.add(format_stamp(p->at_us));
  }
  tx.exec_params0(kUpsert, rooms.done(), jids.done(), ids.done(), ats.done());
  return 0;
}

}  // namespace salon::markers
