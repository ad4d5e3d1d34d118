// SPDX-License-Identifier: GPL-3.0-or-later
// An occupant: one nick in a room, held by one real bare JID from one or more resources
// (multi-session nick: browser + phone are one occupant to everyone else).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/affiliation.hpp"
#include "core/element.hpp"
#include "core/jid.hpp"
#include "muc/limits.hpp"

namespace salon::muc {

using salon::Affiliation;
using salon::Role;

struct Session {
  Jid real;                   // the resource's full JID
  Element presence;           // its last available presence: <presence> with the client's
                              // payload only (no addressing, no MUC elements)
  std::uint64_t updated = 0;  // service-wide sequence; the latest session is the primary one
  // While its join history is being fetched, stanzas for this resource wait here so that it
  // sees the XEP-0045 §7.2 order (presences, history, subject, then live traffic).
  bool joining = false;
  std::vector<Element> held;
};

struct Occupant {
  std::string nick;
  Jid bare;  // the real bare JID
  Role role = Role::participant;
  std::string occupant_id;  // XEP-0421
  std::vector<Session> sessions;
  TokenBucket bucket;          // messages per second
  std::string last_broadcast;  // the payload the room last saw, to detect real changes

  Session* session(const Jid& real) {
    for (auto& s : sessions)
      if (s.real == real) return &s;
    return nullptr;
  }
  // The session whose presence represents the occupant (the most recently updated one).
  // Precondition: !sessions.empty().
  [[nodiscard]] const Session& primary() const {
    const Session* best = &sessions.front();
    for (const auto& s : sessions)
      if (s.updated > best->updated) best = &s;
    return *best;
  }
};

}  // namespace salon::muc
