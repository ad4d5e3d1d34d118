// SPDX-License-Identifier: GPL-3.0-or-later
// The "read-state" service (plugins/markers): how far each member has read each room. A
// member's position advances with an XEP-0333 <displayed/> (or <acknowledged/>) marker they
// send to the room for a message, or with a message of their own. Positions are stored in
// read_state (schemas/006_read_state.sql: room_id, jid, stanza_id, read_at), where other
// plugins read them with SQL (unread = the room's archived messages after read_at); plugins
// that must act at once (the email plugin cancels a pending notification) listen here.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "plugin/plugin.hpp"

namespace salon::markers {

struct ReadPosition {
  std::string stanza_id;  // the last message read (XEP-0359 id by the room)
  // When the room received that message: the archive's ts of it. Everything the room
  // received up to then counts as read.
  std::chrono::system_clock::time_point at;
  // What moved it: a marker, or a message of the member's own (which also means "was here").
  enum class Source { marker, message } source = Source::marker;
};

// What plugins that depends() on "read-state" get from Host::provider("read-state").
class ReadState {
public:
  virtual ~ReadState() = default;
  // Loop thread: a member's read position in a room moved forward (not yet durable: stored
  // within [plugins.markers] flush_interval_ms, coalesced). Listeners run in registration
  // order and must not block.
  using Listener =
      std::function<void(const plugin::RoomView&, const std::string& bare, const ReadPosition&)>;
  virtual void on_read(Listener listener) = 0;
};

}  // namespace salon::markers
