// SPDX-License-Identifier: GPL-3.0-or-later
// The markers plugin: keeps each member's read position per room (read_state.hpp) from the
// XEP-0333 markers and messages they send, and provides it to other plugins as "read-state".
//
// XEP-0490 (Message Displayed Synchronization) keeps the same position in the user's own PEP
// node, private to the account: a component sees it only as a privileged entity (XEP-0356,
// ejabberd's mod_privilege), which salon does not ask for. Clients that send markers to the
// room (Converse.js, Conversations for markable messages) feed this store.
#pragma once

#include <boost/asio/steady_timer.hpp>

#include <map>
#include <memory>
#include <vector>

#include "read_state.hpp"
#include "table.hpp"

namespace salon {
class Counter;
}

namespace salon::markers {

inline constexpr std::string_view kChatMarkers = "urn:xmpp:chat-markers:0";

// What a groupchat message says about its sender's read position: the message itself (its
// own stanza-id and time) when it has a body, the marked message for a <displayed/> or
// <acknowledged/> marker whose id is one of the room's stanza-ids; nothing otherwise (chat
// states, receipts, <received/>, a marker for an id the room did not mint). Pure.
std::optional<ReadPosition> read_position_of(const Element& message, std::string_view stanza_id,
                                             std::chrono::system_clock::time_point received_at);

class MarkersPlugin final : public plugin::Plugin, public ReadState {
public:
  [[nodiscard]] std::string_view name() const override { return "markers"; }
  [[nodiscard]] std::vector<std::string> provides() const override { return {"read-state"}; }
  std::optional<std::string> start(plugin::Host& host,
                                   const config::PluginSection& section) override;
  [[nodiscard]] std::optional<std::string> check(
      const config::PluginSection& section) const override;
  std::optional<std::string> reload(const config::PluginSection& section) override;
  void stop() override;
  void on_message_commit(const plugin::MessageEvent& ev, journal::Commit& commit) override;

  void on_read(Listener listener) override { listeners_.push_back(std::move(listener)); }

private:
  void arm();
  void flush();

  plugin::Host* host_ = nullptr;
  ReadStateTable* table_ = nullptr;  // owned by the journal
  std::chrono::milliseconds flush_interval_{1000};
  std::unique_ptr<boost::asio::steady_timer> timer_;
  bool armed_ = false;
  // Positions not yet handed to the journal, by (room id, bare JID): the latest wins.
  std::map<std::pair<std::int64_t, std::string>, Position> dirty_;
  std::vector<Listener> listeners_;
  Counter* updates_ = nullptr;
};

}  // namespace salon::markers
