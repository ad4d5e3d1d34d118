// SPDX-License-Identifier: GPL-3.0-or-later
#include "markers.hpp"

#include <fmt/format.h>

#include "config/config.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/uuid.hpp"
#include "journal/journal.hpp"

namespace salon::markers {
namespace {

std::variant<std::chrono::milliseconds, std::string> read_interval(
    const config::PluginSection& section) {
  std::chrono::milliseconds interval{1000};
  for (const auto& [key, setting] : section.settings) {
    const auto err = [&](std::string_view what) {
      return fmt::format("line {}: key 'plugins.markers.{}': {}", setting.line, key, what);
    };
    if (key != "flush_interval_ms") return err("unknown key");
    const auto* v = std::get_if<std::int64_t>(&setting.value);
    if (!v) return err("expected an integer");
    if (*v < 10 || *v > 60000) return err("must be between 10 and 60000");
    interval = std::chrono::milliseconds(*v);
  }
  return interval;
}

std::int64_t micros(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::optional<ReadPosition> read_position_of(const Element& m, std::string_view stanza_id,
                                             std::chrono::system_clock::time_point received_at) {
  for (std::string_view kind : {"displayed", "acknowledged"})
    if (const Element* marker = m.child(kind, kChatMarkers)) {
      const std::string_view id = marker->attr("id");
      // The room's stanza-ids carry the time they were minted; any other id (a client's own
      // message id) names nothing the room can place.
      const auto at = uuid7_time(id);
      if (!at || *at > received_at) return std::nullopt;
      return ReadPosition{std::string(id), *at, ReadPosition::Source::marker};
    }
  if (m.child("body"))
    return ReadPosition{std::string(stanza_id), received_at, ReadPosition::Source::message};
  return std::nullopt;
}

std::optional<std::string> MarkersPlugin::check(const config::PluginSection& section) const {
  auto r = read_interval(section);
  if (auto* err = std::get_if<std::string>(&r)) return *err;
  return std::nullopt;
}

std::optional<std::string> MarkersPlugin::start(plugin::Host& host,
                                                const config::PluginSection& section) {
  auto r = read_interval(section);
  if (auto* err = std::get_if<std::string>(&r)) return *err;
  flush_interval_ = std::get<std::chrono::milliseconds>(r);
  host_ = &host;
  table_ = &host.journal().add_table<ReadStateTable>();
  timer_ = std::make_unique<boost::asio::steady_timer>(host.loop());
  updates_ = &host.metrics().counter("salon_read_state_updates_total",
                                     "Read positions moved forward (markers and own messages)");
  return std::nullopt;
}

std::optional<std::string> MarkersPlugin::reload(const config::PluginSection& section) {
  auto r = read_interval(section);
  if (auto* err = std::get_if<std::string>(&r)) return *err;
  flush_interval_ = std::get<std::chrono::milliseconds>(r);
  return std::nullopt;
}

void MarkersPlugin::stop() {
  flush();  // the journal takes what is left before it stops
  timer_.reset();
  armed_ = false;
}

void MarkersPlugin::on_message_commit(const plugin::MessageEvent& ev, journal::Commit&) {
  auto pos = read_position_of(ev.stanza, ev.stanza_id, ev.received_at);
  if (!pos) return;
  const std::string bare = ev.sender.real_bare.bare_str();
  Position& p = dirty_[{ev.room.id, bare}];
  if (p.room_id != 0 && p.at_us >= micros(pos->at)) return;  // not forward of what is queued
  p = Position{ev.room.id, bare, pos->stanza_id, micros(pos->at)};
  updates_->inc();
  for (const auto& l : listeners_)
    l(ev.room, bare, *pos);
  arm();
}

// Positions are coalesced: a busy member's every message is one row per flush, not one per
// message (a read position that is up to flush_interval_ms late costs an unread count that
// is briefly one too high, never a lost message).
void MarkersPlugin::arm() {
  if (armed_ || !timer_) return;
  armed_ = true;
  timer_->expires_after(flush_interval_);
  timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    armed_ = false;
    flush();
  });
}

void MarkersPlugin::flush() {
  if (dirty_.empty() || !host_) return;
  journal::Commit commit;
  for (auto& [key, p] : dirty_)
    commit.add(*table_, std::move(p));
  const std::size_t n = dirty_.size();
  dirty_.clear();
  host_->journal().submit(std::move(commit), [n](bool durable) {
    if (!durable) log::warn("markers", "{} read positions could not be stored", n);
  });
}

}  // namespace salon::markers

std::unique_ptr<salon::plugin::Plugin> salon_make_plugin_markers() {
  return std::make_unique<salon::markers::MarkersPlugin>();
}
