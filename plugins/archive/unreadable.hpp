// SPDX-License-Identifier: GPL-3.0-or-later
// Archived rows whose stanza no longer parses (core/xml_parse refuses it: nested deeper than
// kMaxParseDepth by a salond from before the link's depth limit, or a row edited by hand).
// Failing the read made the join history empty and every MAM page holding the row an
// internal-server-error, for good. Such a row is served as a placeholder instead, as a
// retracted message is served as its tombstone (XEP-0424/0425): its stanza-id, sender and time
// stay, a body says it cannot be displayed, and the row is counted and logged once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_set>

#include "core/element.hpp"

namespace salon {
class Counter;
}

namespace salon::archive {

inline constexpr std::string_view kUnreadableBody =
    "[This message cannot be displayed: the archive can no longer read it.]";

// What stands in for an archived row whose stanza is not served (a retraction's tombstone, an
// unreadable row's placeholder): a groupchat message from room/nick holding `marker`, with the
// row's stanza-id and occupant-id. MAM adds the time in <delay/>, history too.
Element stand_in(const std::string& room_jid, const std::string& nick, Element marker,
                 const std::string& stanza_id, const std::string& occupant_id);

// The placeholder of an unreadable row.
Element unreadable_placeholder(const std::string& room_jid, const std::string& nick,
                               const std::string& stanza_id, const std::string& occupant_id);

// Counts and logs each unreadable row the first time this process serves it. Called on the
// reader threads (thread-safe).
class Unreadable {
public:
  explicit Unreadable(Counter* counter) : counter_(counter) {}
  void report(std::int64_t room_id, const std::string& stanza_id, std::size_t bytes);

private:
  Counter* counter_;
  std::mutex mutex_;
  std::unordered_set<std::string> seen_;  // stanza-ids, bounded (kMaxSeen)
};

}  // namespace salon::archive
