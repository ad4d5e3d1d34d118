// SPDX-License-Identifier: GPL-3.0-or-later
// A loaded room: its record (from the RoomStore), affiliations, occupants, the FIFO of
// messages awaiting plugin holds, and its write-behind / idle-unload bookkeeping.
// Rooms live on the event loop; asynchronous callbacks hold weak_ptrs to them.
#pragma once

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/element.hpp"
#include "core/jid.hpp"
#include "muc/occupant.hpp"
#include "muc/store.hpp"
#include "plugin/plugin.hpp"

namespace salon::muc {

// A groupchat message between "accepted" and "broadcast": plugins may hold it.
struct PendingMessage {
  Element stanza;               // as it will be reflected (no 'to' yet)
  Element original;             // as received, for an error bounce to the sender
  plugin::OccupantView sender;  // snapshot at receipt (valid after the sender left)
  Jid sender_real;
  std::string stanza_id;
  plugin::Clock::time_point received_at;
  std::chrono::steady_clock::time_point started;
  std::size_t holds_pending = 0;
  std::optional<StanzaError> failed;
  bool refused = false;  // a plugin refused it; late hold callbacks are ignored
};

// What a loaded room keeps per affiliated user. Email, marketplace role and reason stay in the
// store (a loaded idle room must stay small: ~100 bytes per member instead of ~300).
struct Member {
  Affiliation affiliation = Affiliation::none;
  std::string nick;  // reserved nick; may be empty
};

// Rates per user (bare JID) in a room, kept while the room is loaded so that leaving and
// joining again does not refill them. Only members get one: bounded by the member list.
struct UserLimits {
  TokenBucket presence;  // joins, presence updates, nick changes, rejoins
  TokenBucket messages;  // declines from a member who is not an occupant
};

struct Room {
  enum class State { loading, ready };

  State state = State::loading;
  std::string local;
  Jid jid;                                       // local@service
  RoomRecord record;                             // record.affiliations stays empty:
  std::map<std::string, Member> affiliations;    // <- bare JID -> member is kept instead
  std::map<std::string, Occupant> occupants;     // nick -> occupant
  std::unordered_map<Jid, std::string> nick_of;  // real full JID -> nick
  std::vector<Element> queued;                   // stanzas that arrived while loading
  // Bare JID -> rates (an empty map is 56 bytes; entries only for members who were active).
  std::unordered_map<std::string, UserLimits> user_limits;

  // FIFOs that are empty nearly always: std::list allocates nothing while empty (an empty
  // std::deque costs ~576 bytes per room).
  std::list<std::shared_ptr<PendingMessage>> outbox;
  bool pumping = false;

  // Write-behind of the occupant set.
  bool dirty = false;
  bool save_armed = false;
  bool saving = false;
  std::unique_ptr<boost::asio::steady_timer> save_timer;
  // Idle unload: one service-wide sweep (Service::Impl::idle_queue) instead of a timer per room.
  std::chrono::steady_clock::time_point idle_since{};
  bool idle_queued = false;
  int busy = 0;  // store operations in flight

  // Changes to what the store keeps for the room (affiliations, configuration, subject) run
  // one at a time, each after the previous one is stored, so each is checked against and
  // built on the state its predecessors left: two owners demoting each other at the same
  // moment still leave an owner (XEP-0045 §10), and two quick edits both apply.
  std::list<std::function<void(Room&, std::shared_ptr<void>)>> writes;
  bool writing = false;
  bool destroyed = false;

  [[nodiscard]] Affiliation affiliation_of(const std::string& bare) const {
    auto it = affiliations.find(bare);
    return it == affiliations.end() ? Affiliation::none : it->second.affiliation;
  }
  [[nodiscard]] Affiliation affiliation_of(const Jid& j) const {
    return affiliation_of(j.bare_str());
  }
  Occupant* occupant_by_real(const Jid& real) {
    auto it = nick_of.find(real);
    if (it == nick_of.end()) return nullptr;
    auto o = occupants.find(it->second);
    return o == occupants.end() ? nullptr : &o->second;
  }
  Occupant* occupant_by_nick(const std::string& nick) {
    auto it = occupants.find(nick);
    return it == occupants.end() ? nullptr : &it->second;
  }
  [[nodiscard]] std::string occupant_jid(const std::string& nick) const {
    return jid.bare_str() + "/" + nick;
  }
  [[nodiscard]] bool idle() const {
    return occupants.empty() && outbox.empty() && busy == 0 && !dirty && !saving && !save_armed &&
           !writing && writes.empty();
  }
};

// XEP-0045 §5.1.2 default roles in a members-only room.
inline Role default_role(Affiliation a) {
  switch (a) {
    case Affiliation::owner:
    case Affiliation::admin: return Role::moderator;
    case Affiliation::member: return Role::participant;
    default: return Role::none;
  }
}

inline int rank(Affiliation a) {
  switch (a) {
    case Affiliation::outcast: return 0;
    case Affiliation::none: return 1;
    case Affiliation::member: return 2;
    case Affiliation::admin: return 3;
    case Affiliation::owner: return 4;
  }
  return 1;
}

using salon::parse_affiliation;
using salon::parse_role;

}  // namespace salon::muc
