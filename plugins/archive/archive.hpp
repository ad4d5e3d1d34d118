// SPDX-License-Identifier: GPL-3.0-or-later
// The archive plugin (docs/ARCHIVE.md): every archived groupchat message is durably in
// PostgreSQL before it is reflected (its row goes into the message's journal commit:
// table.hpp), served as XEP-0313 MAM
// (mam.cpp) and as XEP-0045 history on join.
#pragma once

#include <memory>

#include "plugin/plugin.hpp"
#include "retention.hpp"
#include "settings.hpp"
#include "table.hpp"
#include "unreadable.hpp"

namespace salon::archive {

class ArchivePlugin final : public plugin::Plugin {
public:
  [[nodiscard]] std::string_view name() const override { return "archive"; }
  // The archive table's messages, read by plugins that depend on them (the email digest).
  [[nodiscard]] std::vector<std::string> provides() const override { return {"archive"}; }
  std::optional<std::string> start(plugin::Host& host,
                                   const config::PluginSection& section) override;
  std::optional<std::string> reload(const config::PluginSection& section) override;
  [[nodiscard]] std::optional<std::string> check(
      const config::PluginSection& section) const override;
  void stop() override;
  void on_message_commit(const plugin::MessageEvent& ev, journal::Commit& commit) override;
  void on_subject_changed(const plugin::RoomView& room, const plugin::OccupantView& sender,
                          const Element& message, plugin::Clock::time_point at) override;

private:
  void mam_query(const plugin::RoomIq& iq, IqResponder reply);
  void mam_get(const plugin::RoomIq& iq, IqResponder reply);
  void moderate(const plugin::RoomIq& iq, IqResponder reply);
  void history(const plugin::RoomView& room, const plugin::HistoryRequest& req,
               std::function<void(std::vector<Element>)> done);

  plugin::Host* host_ = nullptr;
  Settings settings_;
  ArchiveTable* table_ = nullptr;  // owned by the journal
  std::unique_ptr<Retention> retention_;
  // Shared with the reader threads' jobs, which may outlive a stop().
  std::shared_ptr<Unreadable> unreadable_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace salon::archive
