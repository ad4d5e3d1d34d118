// SPDX-License-Identifier: GPL-3.0-or-later
#include "plugin/plugin.hpp"

#include "plugin/hold.hpp"

namespace salon::plugin {

std::string_view to_string(Hook h) {
  switch (h) {
    case Hook::occupant_pre_join: return "occupant_pre_join";
    case Hook::occupant_joined: return "occupant_joined";
    case Hook::occupant_left: return "occupant_left";
    case Hook::presence_changed: return "presence_changed";
    case Hook::message_before_broadcast: return "message_before_broadcast";
    case Hook::message_commit: return "message_commit";
    case Hook::message_after_broadcast: return "message_after_broadcast";
    case Hook::subject_changed: return "subject_changed";
    case Hook::room_destroyed: return "room_destroyed";
    case Hook::member_changed: return "member_changed";
  }
  return "unknown";
}

BroadcastHold::BroadcastHold(std::shared_ptr<State> state) : state_(std::move(state)) {}

BroadcastHold::BroadcastHold(BroadcastHold&&) noexcept = default;

BroadcastHold& BroadcastHold::operator=(BroadcastHold&& other) noexcept {
  if (this != &other) {
    // Overwriting an unsettled hold must not stall its message: it fails like a dropped one.
    if (state_ && !state_->settled)
      state_->finish(errors::internal_server_error("broadcast hold was dropped"));
    state_ = std::move(other.state_);
  }
  return *this;
}

BroadcastHold::~BroadcastHold() {
  if (state_ && !state_->settled)
    state_->finish(errors::internal_server_error("broadcast hold was dropped"));
}

void BroadcastHold::release() {
  if (state_) state_->finish(std::nullopt);
}

void BroadcastHold::fail(StanzaError error) {
  if (state_) state_->finish(std::move(error));
}

}  // namespace salon::plugin
