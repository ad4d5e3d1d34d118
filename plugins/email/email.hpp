// SPDX-License-Identifier: GPL-3.0-or-later
// The email plugin (docs/EMAIL.md): a member who missed messages gets one digest email after a
// delay — reliably, exactly once as far as SMTP allows, and never once they have read, joined
// or written.
//
// On the loop: a message with a body that a member misses (none of their resources joined,
// not theirs) adds a pending row to the message's commit (pending.hpp), so it is stored in
// the same transaction as the archived message; joins, markers and own messages (the
// "read-state" service) cancel it. The loop remembers which (room, member) pairs have a row,
// so a busy room adds one row per absent member, not one per message. The sender thread
// (sender.hpp) claims due rows, re-checks them, renders, sends and records.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "claim.hpp"
#include "pending.hpp"
#include "plugin/plugin.hpp"
#include "render.hpp"
#include "settings.hpp"
#include "tracker.hpp"

namespace salon {
class Counter;
}
namespace salon::markers {
struct ReadPosition;
}

namespace salon::email {

class Sender;

// Whether a groupchat message is worth an email: a non-empty body that is not a correction
// (XEP-0308) or a retraction (XEP-0424). Chat states, markers and reactions carry no body.
bool notifiable(const Element& message);

class EmailPlugin final : public plugin::Plugin {
public:
  EmailPlugin();
  ~EmailPlugin() override;
  [[nodiscard]] std::string_view name() const override { return "email"; }
  [[nodiscard]] std::vector<std::string> depends() const override {
    return {"archive", "read-state"};
  }
  std::optional<std::string> start(plugin::Host& host,
                                   const config::PluginSection& section) override;
  [[nodiscard]] std::optional<std::string> check(
      const config::PluginSection& section) const override;
  std::optional<std::string> reload(const config::PluginSection& section) override;
  void stop() override;

  void on_message_commit(const plugin::MessageEvent& ev, journal::Commit& commit) override;
  void on_occupant_joined(const plugin::RoomView& room, const plugin::OccupantView& o) override;
  void on_member_changed(const plugin::RoomView& room, const std::string& bare,
                         plugin::Affiliation now) override;
  void on_room_destroyed(const plugin::RoomView& room) override;

  // Loop thread, from the API: a member's preferences changed; forget what the loop knows
  // of them so the next missed message is judged by the new ones. `room_id` 0: every room.
  void forget(const std::string& bare, std::int64_t room_id = 0);
  // Loop thread: rows the sender removed (delivered, refused, dropped).
  void handled(const std::vector<Handled>& rows);
  [[nodiscard]] const Settings& settings() const { return settings_; }
  [[nodiscard]] plugin::Host& host() { return *host_; }
  void wake_sender();

private:
  void cancel(std::int64_t room_id, const std::string& bare, std::string_view reason);
  void on_read(const plugin::RoomView& room, const std::string& bare,
               const markers::ReadPosition& pos);
  void submit(PendingOp op);
  void load_pending();
  void committed(PendingTable::Rows rows, std::int64_t enqueued);
  void unsure();
  Counter& cancelled(std::string_view reason);
  void add_routes();

  plugin::Host* host_ = nullptr;
  Settings settings_;
  PendingTable* table_ = nullptr;  // owned by the journal
  std::unique_ptr<Sender> sender_;
  PendingTracker tracker_;
  std::int64_t started_us_ = 0;
  Counter* enqueued_ = nullptr;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace salon::email
