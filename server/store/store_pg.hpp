// SPDX-License-Identifier: GPL-3.0-or-later
// muc::RoomStore on PostgreSQL (schemas/001_core.sql, 002_store.sql), through salon::db:
// reads run on the reader threads (one REPEATABLE READ READ ONLY transaction per call, so a
// room and its affiliations are one snapshot); writes are db::WriteJobs on the single writer,
// so they commit in call order, several per COMMIT under load, and `done` runs on the loop in
// call order. Every statement is parameterised; sets of rows travel as text[] parameters.
//
// How the calls map to the tables:
//  - upsert_project: one job = one transaction step: insert or update `rooms` (name,
//    description; subject and settings are kept), delete the room's affiliations except the
//    outcasts set over XMPP (role NULL), then insert the provisioned members (a member listed
//    in the spec replaces whatever XMPP had set for that JID, a kept outcast included; a kept
//    row whose reserved nick a member now takes loses its nick). Answers the room as stored.
//  - set_affiliation: upsert by (room, JID); affiliation `none` deletes the row. Empty nick,
//    email or role keep the stored value (a provisioned member promoted over XMPP stays
//    provisioned); `reason` is replaced.
//  - delete_room: the room's archive first, in batches on a reader (store_pg.cpp says why),
//    then the room in one write job (affiliations and occupants cascade).
//  - save_room: name, description, subject, subject_nick and the settings (rooms.config).
//    Affiliations are not touched (set_affiliation / upsert_project do that).
//  - save_occupants: delete + insert of the room's rows in one transaction; a room deleted
//    meanwhile is a no-op, not an error.
//  - rooms_of: member/admin/owner affiliations of a bare JID (index affiliations_jid).
#pragma once

#include "muc/store.hpp"

namespace salon::db {
class Database;
}

namespace salon::store {

using muc::AffiliationRecord;
using muc::PersistedOccupant;
using muc::ProjectSpec;
using muc::RestoredRoom;
using muc::RoomRecord;
using muc::StoreError;

class PgRoomStore final : public muc::RoomStore {
public:
  // `database` must outlive this object and every call in flight.
  explicit PgRoomStore(db::Database& database) : db_(database) {}

  void load_room(const std::string& local,
                 std::function<void(std::optional<RoomRecord>, StoreError)> done) override;
  void upsert_project(
      const ProjectSpec& spec,
      std::function<void(std::optional<RoomRecord>, bool created, StoreError)> done) override;
  void delete_room(const std::string& local,
                   std::function<void(bool existed, StoreError)> done) override;
  void set_affiliation(std::int64_t room_id, const AffiliationRecord& a,
                       std::function<void(StoreError)> done) override;
  void save_room(const RoomRecord& room, std::function<void(StoreError)> done) override;
  void save_occupants(std::int64_t room_id, std::vector<PersistedOccupant> occupants,
                      std::function<void(StoreError)> done) override;
  void load_occupied_rooms(
      std::function<void(std::vector<RestoredRoom>, StoreError)> done) override;
  void rooms_of(const std::string& bare_jid,
                std::function<void(std::map<std::string, std::string>, StoreError)> done) override;

private:
  db::Database& db_;
};

}  // namespace salon::store
