// SPDX-License-Identifier: GPL-3.0-or-later
// Where rooms, affiliations and occupants are kept. The MUC service talks only to this
// interface: PgRoomStore (store_pg.cpp) runs on the database workers, MemoryRoomStore serves
// unit tests. Every call is asynchronous; `done` is always called on the event loop, exactly once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/affiliation.hpp"

namespace salon::muc {

using salon::Affiliation;

struct AffiliationRecord {
  std::string jid;  // bare JID, normalised
  Affiliation affiliation = Affiliation::none;
  std::string nick;   // reserved nick (the provisioned display name); may be empty
  std::string email;  // for the email plugin (later)
  std::string role;   // marketplace role: client|designer|staff|... (empty if set by XMPP)
  std::string reason;
};

// Room settings that owners can change (muc#roomconfig) or the API sets.
struct RoomSettings {
  bool members_can_change_subject = true;
  bool allow_private_messages = true;
};

struct RoomRecord {
  std::int64_t id = 0;
  std::string local;  // project id = room JID localpart
  std::string name;
  std::string description;
  std::string subject;
  std::string subject_nick;
  RoomSettings settings;
  std::vector<AffiliationRecord> affiliations;
};

struct PersistedOccupant {
  std::string nick;
  std::string real_jid;      // full JID of one joined resource
  std::string role;          // moderator|participant|visitor
  std::string presence_xml;  // the last presence as broadcast (for restore)
};

struct RestoredRoom {
  RoomRecord room;
  std::vector<PersistedOccupant> occupants;
};

// What the provisioning API asks for: the whole desired state of a project's room.
struct ProjectSpec {
  std::string local;
  std::string name;
  std::string description;
  std::vector<AffiliationRecord> members;  // affiliation already mapped from the role
};

struct StoreError {
  std::string message;  // empty = success
  explicit operator bool() const { return !message.empty(); }
};

class RoomStore {
public:
  virtual ~RoomStore() = default;
  virtual void load_room(const std::string& local,
                         std::function<void(std::optional<RoomRecord>, StoreError)> done) = 0;
  // Creates or replaces the room's name/description and its provisioned member set
  // (affiliations not in `members` are removed, except outcasts set over XMPP).
  virtual void upsert_project(
      const ProjectSpec& spec,
      std::function<void(std::optional<RoomRecord>, bool created, StoreError)> done) = 0;
  virtual void delete_room(const std::string& local,
                           std::function<void(bool existed, StoreError)> done) = 0;
  virtual void set_affiliation(std::int64_t room_id, const AffiliationRecord& a,
                               std::function<void(StoreError)> done) = 0;  // none = remove
  virtual void save_room(const RoomRecord& room, std::function<void(StoreError)> done) = 0;
  // Replaces the persisted occupant set of a room (write-behind; latest call wins).
  virtual void save_occupants(std::int64_t room_id, std::vector<PersistedOccupant> occupants,
                              std::function<void(StoreError)> done) = 0;
  // At start-up: every room that had occupants when salond stopped (or was killed).
  virtual void load_occupied_rooms(
      std::function<void(std::vector<RestoredRoom>, StoreError)> done) = 0;
  // disco#items: the rooms a bare JID is affiliated with (member/admin/owner): local -> name.
  virtual void rooms_of(
      const std::string& bare_jid,
      std::function<void(std::map<std::string, std::string>, StoreError)> done) = 0;
};

}  // namespace salon::muc
