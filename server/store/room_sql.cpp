// SPDX-License-Identifier: GPL-3.0-or-later
#include "store/room_sql.hpp"

#include <pqxx/result>
#include <pqxx/row>

#include <unordered_map>

#include "store/pg_array.hpp"

namespace salon::store::sql {

namespace {

// Settings live in rooms.config (jsonb); a key that is absent keeps RoomSettings' default.
constexpr const char* kRoomColumns =
    "SELECT id, jid_local, name, description, subject, COALESCE(subject_nick, ''), "
    "(config->>'members_can_change_subject')::boolean, "
    "(config->>'allow_private_messages')::boolean FROM rooms ";

constexpr const char* kAffiliationColumns =
    "SELECT room_id, jid, affiliation, COALESCE(nick, ''), COALESCE(email, ''), "
    "COALESCE(role, ''), COALESCE(reason, '') FROM affiliations ";

// Byte order, whatever the database's collation: the same answer everywhere.
constexpr const char* kAffiliationOrder = " ORDER BY room_id, jid COLLATE \"C\"";

bool bool_or(const pqxx::field& f, bool fallback) {
  return f.is_null() ? fallback : f.as<bool>();
}

muc::RoomRecord room_from(const pqxx::row& r) {
  muc::RoomRecord room;
  room.id = r[0].as<std::int64_t>();
  room.local = r[1].as<std::string>();
  room.name = r[2].as<std::string>();
  room.description = r[3].as<std::string>();
  room.subject = r[4].as<std::string>();
  room.subject_nick = r[5].as<std::string>();
  room.settings.members_can_change_subject =
      bool_or(r[6], room.settings.members_can_change_subject);
  room.settings.allow_private_messages = bool_or(r[7], room.settings.allow_private_messages);
  return room;
}

muc::AffiliationRecord affiliation_from(const pqxx::row& r) {
  muc::AffiliationRecord a;
  a.jid = r[1].as<std::string>();
  // The CHECK constraint allows only the four names; anything else would be a schema bug.
  a.affiliation = salon::parse_affiliation(r[2].as<std::string>()).value_or(muc::Affiliation::none);
  a.nick = r[3].as<std::string>();
  a.email = r[4].as<std::string>();
  a.role = r[5].as<std::string>();
  a.reason = r[6].as<std::string>();
  return a;
}

std::optional<muc::RoomRecord> with_affiliations(pqxx::transaction_base& tx,
                                                 const pqxx::result& rooms) {
  if (rooms.empty()) return std::nullopt;
  auto room = room_from(rooms[0]);
  const auto rows = tx.exec_params(
      std::string(kAffiliationColumns) + "WHERE room_id = $1" + kAffiliationOrder, room.id);
  room.affiliations.reserve(rows.size());
  for (const auto& r : rows)
    room.affiliations.push_back(affiliation_from(r));
  return room;
}

}  // namespace

std::optional<muc::RoomRecord> room_by_local(pqxx::transaction_base& tx, const std::string& local) {
  return with_affiliations(
      tx, tx.exec_params(std::string(kRoomColumns) + "WHERE jid_local = $1", local));
}

std::optional<muc::RoomRecord> room_by_id(pqxx::transaction_base& tx, std::int64_t id) {
  return with_affiliations(tx, tx.exec_params(std::string(kRoomColumns) + "WHERE id = $1", id));
}

std::vector<muc::RestoredRoom> occupied_rooms(pqxx::transaction_base& tx) {
  constexpr const char* kOccupied = "room_id IN (SELECT DISTINCT room_id FROM occupants)";
  std::vector<muc::RestoredRoom> out;
  std::unordered_map<std::int64_t, std::size_t> index;
  for (const auto& r :
       tx.exec(std::string(kRoomColumns) +
               "WHERE id IN (SELECT DISTINCT room_id FROM occupants) ORDER BY id")) {
    index.emplace(r[0].as<std::int64_t>(), out.size());
    out.push_back({room_from(r), {}});
  }
  for (const auto& r :
       tx.exec(std::string(kAffiliationColumns) + "WHERE " + kOccupied + kAffiliationOrder)) {
    const auto it = index.find(r[0].as<std::int64_t>());
    if (it != index.end()) out[it->second].room.affiliations.push_back(affiliation_from(r));
  }
  for (const auto& r : tx.exec("SELECT room_id, nick, real_jid, role, presence FROM occupants "
                               "ORDER BY room_id, nick, real_jid COLLATE \"C\"")) {
    const auto it = index.find(r[0].as<std::int64_t>());
    if (it == index.end()) continue;
    out[it->second].occupants.push_back({r[1].as<std::string>(), r[2].as<std::string>(),
                                         r[3].as<std::string>(), r[4].as<std::string>()});
  }
  return out;
}

std::map<std::string, std::string> rooms_of(pqxx::transaction_base& tx, const std::string& bare) {
  std::map<std::string, std::string> out;
  for (const auto& r : tx.exec_params(
           "SELECT r.jid_local, r.name FROM affiliations a JOIN rooms r ON r.id = a.room_id "
           "WHERE a.jid = $1 AND a.affiliation IN ('member', 'admin', 'owner')",
           bare))
    out.emplace(r[0].as<std::string>(), r[1].as<std::string>());
  return out;
}

Upserted upsert_project(pqxx::transaction_base& tx, const muc::ProjectSpec& spec) {
  Upserted u;
  // Row lock: a second salond provisioning the same project waits for this transaction.
  const auto found =
      tx.exec_params("SELECT id FROM rooms WHERE jid_local = $1 FOR UPDATE", spec.local);
  if (found.empty()) {
    u.room_id = tx.exec_params1(
                      "INSERT INTO rooms (jid_local, name, description) "
                      "VALUES ($1, $2, $3) RETURNING id",
                      spec.local, spec.name, spec.description)[0]
                    .as<std::int64_t>();
    u.created = true;
  } else {
    u.room_id = found[0][0].as<std::int64_t>();
    tx.exec_params0(
        "UPDATE rooms SET name = $2, description = $3, updated_at = now() "
        "WHERE id = $1",
        u.room_id, spec.name, spec.description);
  }

  // The provisioning API never grants `outcast`: every outcast was set over XMPP (a ban) and
  // survives an update. One that the spec does not list stops being a provisioned member
  // (role and email go), and loses its reserved nick if a listed member now has it.
  const auto nicks =
      text_array(spec.members, [](const auto& m) -> std::string_view { return m.nick; });
  tx.exec_params0("DELETE FROM affiliations WHERE room_id = $1 AND affiliation <> 'outcast'",
                  u.room_id);
  tx.exec_params0(
      "UPDATE affiliations SET role = NULL, email = NULL, "
      "nick = CASE WHEN lower(nick) IN (SELECT lower(n) FROM unnest($2::text[]) AS n) "
      "THEN NULL ELSE nick END WHERE room_id = $1",
      u.room_id, nicks);
  // A listed member replaces what XMPP had set for that JID (lifting a ban).
  tx.exec_params0(
      "INSERT INTO affiliations (room_id, jid, affiliation, nick, email, role, reason) "
      "SELECT $1, m.jid, m.affiliation, NULLIF(m.nick, ''), NULLIF(m.email, ''), "
      "NULLIF(m.role, ''), NULL "
      "FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) "
      "AS m(jid, affiliation, nick, email, role) "
      "ON CONFLICT (room_id, jid) DO UPDATE SET affiliation = EXCLUDED.affiliation, "
      "nick = EXCLUDED.nick, email = EXCLUDED.email, role = EXCLUDED.role, reason = NULL",
      u.room_id, text_array(spec.members, [](const auto& m) -> std::string_view { return m.jid; }),
      text_array(spec.members,
                 [](const auto& m) -> std::string_view { return salon::to_string(m.affiliation); }),
      nicks, text_array(spec.members, [](const auto& m) -> std::string_view { return m.email; }),
      text_array(spec.members, [](const auto& m) -> std::string_view { return m.role; }));
  return u;
}

bool delete_room(pqxx::transaction_base& tx, const std::string& local) {
  // Affiliations and occupants go with it (ON DELETE CASCADE).
  return !tx.exec_params("DELETE FROM rooms WHERE jid_local = $1 RETURNING id", local).empty();
}

std::int64_t delete_archive_batch(pqxx::transaction_base& tx, const std::string& local,
                                  std::int64_t limit) {
  // The count lock of schemas/005 (plugins/archive/store.cpp, kLockCounts): a fold in flight
  // must not count rows this batch deletes. Rows above the watermark are not deleted here: the
  // writer's tallies claim them (plugins/archive/store.hpp, Tally); the fold moves the
  // watermark up every second, and the room's own DELETE takes whatever is left.
  tx.exec("SELECT pg_advisory_xact_lock(126862268263938)");
  return tx
      .exec_params1(
          "WITH room AS (SELECT r.id, c.upto FROM rooms r JOIN archive_counts c "
          "ON c.room_id = r.id WHERE r.jid_local = $1), "
          "del AS (DELETE FROM archive WHERE room_id = (SELECT id FROM room) AND id IN ("
          "SELECT id FROM archive WHERE room_id = (SELECT id FROM room) "
          "AND id <= (SELECT upto FROM room) ORDER BY id LIMIT $2) RETURNING id), "
          "n AS (SELECT count(*) AS k FROM del), "
          "upd AS (UPDATE archive_counts SET messages = messages - (SELECT k FROM n) "
          "WHERE room_id = (SELECT id FROM room)) "
          "SELECT k FROM n",
          local, limit)[0]
      .as<std::int64_t>();
}

void set_affiliation(pqxx::transaction_base& tx, std::int64_t room_id,
                     const muc::AffiliationRecord& a) {
  if (a.affiliation == muc::Affiliation::none) {
    tx.exec_params0("DELETE FROM affiliations WHERE room_id = $1 AND jid = $2", room_id, a.jid);
    return;
  }
  tx.exec_params0(
      "INSERT INTO affiliations (room_id, jid, affiliation, nick, email, role, reason) "
      "VALUES ($1, $2, $3, NULLIF($4, ''), NULLIF($5, ''), NULLIF($6, ''), NULLIF($7, '')) "
      "ON CONFLICT (room_id, jid) DO UPDATE SET affiliation = EXCLUDED.affiliation, "
      "nick = COALESCE(EXCLUDED.nick, affiliations.nick), "
      "email = COALESCE(EXCLUDED.email, affiliations.email), "
      "role = COALESCE(EXCLUDED.role, affiliations.role), reason = EXCLUDED.reason",
      room_id, a.jid, std::string(salon::to_string(a.affiliation)), a.nick, a.email, a.role,
      a.reason);
}

void save_room(pqxx::transaction_base& tx, const muc::RoomRecord& room) {
  tx.exec_params0(
      "UPDATE rooms SET name = $2, description = $3, subject = $4, "
      "subject_nick = NULLIF($5, ''), updated_at = now(), "
      "config = config || jsonb_build_object('members_can_change_subject', $6::boolean, "
      "'allow_private_messages', $7::boolean) WHERE id = $1",
      room.id, room.name, room.description, room.subject, room.subject_nick,
      room.settings.members_can_change_subject, room.settings.allow_private_messages);
}

void save_occupants(pqxx::transaction_base& tx, std::int64_t room_id,
                    const std::vector<muc::PersistedOccupant>& occupants) {
  tx.exec_params0("DELETE FROM occupants WHERE room_id = $1", room_id);
  if (occupants.empty()) return;
  // One row per real JID (the primary key): if the caller lists one twice, the last wins.
  std::unordered_map<std::string_view, std::size_t> last;
  for (std::size_t i = 0; i < occupants.size(); ++i)
    last[occupants[i].real_jid] = i;
  std::vector<const muc::PersistedOccupant*> rows;
  for (std::size_t i = 0; i < occupants.size(); ++i)
    if (last[occupants[i].real_jid] == i) rows.push_back(&occupants[i]);
  const auto col = [&](auto member) {
    return text_array(rows, [member](const auto* o) -> std::string_view { return o->*member; });
  };
  // Joined with rooms so that saving the occupants of a room deleted meanwhile does nothing.
  tx.exec_params0(
      "INSERT INTO occupants (room_id, nick, real_jid, role, presence) "
      "SELECT r.id, o.nick, o.real_jid, o.role, o.presence FROM rooms AS r, "
      "unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS o(nick, real_jid, role, presence) "
      "WHERE r.id = $1",
      room_id, col(&muc::PersistedOccupant::nick), col(&muc::PersistedOccupant::real_jid),
      col(&muc::PersistedOccupant::role), col(&muc::PersistedOccupant::presence_xml));
}

}  // namespace salon::store::sql
