// SPDX-License-Identifier: GPL-3.0-or-later
// The SQL of PgRoomStore, as functions on an open transaction (internal to server/store/).
// They throw pqxx exceptions; the db layer turns those into errors (and, for writes, isolates
// the failing job from the rest of its batch). Functions that write may run more than once
// (the writer re-runs a batch's jobs after a rollback), so they only depend on their arguments.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/transaction_base>

#include "muc/store.hpp"

namespace salon::store::sql {

// Reads.
std::optional<muc::RoomRecord> room_by_local(pqxx::transaction_base& tx, const std::string& local);
std::optional<muc::RoomRecord> room_by_id(pqxx::transaction_base& tx, std::int64_t id);
std::vector<muc::RestoredRoom> occupied_rooms(pqxx::transaction_base& tx);
std::map<std::string, std::string> rooms_of(pqxx::transaction_base& tx, const std::string& bare);

// Writes.
struct Upserted {
  std::int64_t room_id = 0;
  bool created = false;
};
Upserted upsert_project(pqxx::transaction_base& tx, const muc::ProjectSpec& spec);
bool delete_room(pqxx::transaction_base& tx, const std::string& local);  // existed
// Deletes up to `limit` of the room's oldest archive rows, in a transaction of the caller's
// own, and keeps archive_counts right (as the archive's retention purge does: only rows at or
// below the room's count watermark, whose count is folded). Returns how many it deleted.
std::int64_t delete_archive_batch(pqxx::transaction_base& tx, const std::string& local,
                                  std::int64_t limit);
void set_affiliation(pqxx::transaction_base& tx, std::int64_t room_id,
                     const muc::AffiliationRecord& a);
void save_room(pqxx::transaction_base& tx, const muc::RoomRecord& room);
void save_occupants(pqxx::transaction_base& tx, std::int64_t room_id,
                    const std::vector<muc::PersistedOccupant>& occupants);

}  // namespace salon::store::sql
