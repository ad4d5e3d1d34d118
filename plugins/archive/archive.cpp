// SPDX-License-Identifier: GPL-3.0-or-later
#include "archive.hpp"

#include <fmt/format.h>

#include "core/log.hpp"
#include "core/stamp.hpp"
#include "core/uuid.hpp"
#include "db/database.hpp"
#include "export.hpp"
#include "journal/journal.hpp"

namespace salon::archive {

std::optional<std::string> ArchivePlugin::check(const config::PluginSection& section) const {
  auto s = read_settings(section);
  if (auto* err = std::get_if<std::string>(&s)) return *err;
  return std::nullopt;
}

std::optional<std::string> ArchivePlugin::start(plugin::Host& host,
                                                const config::PluginSection& section) {
  auto s = read_settings(section);
  if (auto* err = std::get_if<std::string>(&s)) return *err;
  settings_ = std::get<Settings>(s);
  host_ = &host;
  unreadable_ = std::make_shared<Unreadable>(&host.metrics().counter(
      "salon_archive_unreadable_rows_total",
      "Archived stanzas that no longer parse, served as placeholders (each row once)"));
  table_ = &host.journal().add_table<ArchiveTable>(host.loop(), host.database(), host.metrics());
  host.declare_room_logging();
  host.add_room_feature(std::string(ns::mam));
  host.add_room_feature(std::string(ns::mam_extended));
  host.add_room_feature(std::string(ns::fulltext));
  host.add_room_feature("urn:xmpp:message-moderate:1");
  host.on_room_iq("set", "urn:xmpp:message-moderate:1",
                  [this](const plugin::RoomIq& iq, IqResponder r) { moderate(iq, std::move(r)); });
  host.on_room_iq("set", ns::mam,
                  [this](const plugin::RoomIq& iq, IqResponder r) { mam_query(iq, std::move(r)); });
  host.on_room_iq("get", ns::mam,
                  [this](const plugin::RoomIq& iq, IqResponder r) { mam_get(iq, std::move(r)); });
  add_http_routes(host);
  retention_ = std::make_unique<Retention>(host, settings_.retention_days,
                                           std::chrono::seconds(settings_.purge_interval_seconds));
  host.set_history_provider([this](const plugin::RoomView& room, const Jid&,
                                   const plugin::HistoryRequest& req,
                                   std::function<void(std::vector<Element>)> done) {
    history(room, req, std::move(done));
  });
  return std::nullopt;
}

std::optional<std::string> ArchivePlugin::reload(const config::PluginSection& section) {
  auto s = read_settings(section);
  if (auto* err = std::get_if<std::string>(&s)) return *err;
  settings_ = std::get<Settings>(s);
  if (retention_)
    retention_->set(settings_.retention_days,
                    std::chrono::seconds(settings_.purge_interval_seconds));
  return std::nullopt;
}

void ArchivePlugin::stop() {
  retention_.reset();
}

void ArchivePlugin::on_message_commit(const plugin::MessageEvent& ev, journal::Commit& commit) {
  auto c = classify(ev.stanza);
  if (!c) return;
  Row row;
  row.room_id = ev.room.id;
  row.stanza_id = ev.stanza_id;
  row.ts_us =
      std::chrono::duration_cast<std::chrono::microseconds>(ev.received_at.time_since_epoch())
          .count();
  row.kind = c->kind;
  row.nick = ev.sender.nick;
  row.sender_jid = ev.sender.real_bare.bare_str();
  row.occupant_id = ev.sender.occupant_id;
  row.msg_id = std::move(c->msg_id);
  row.has_body = c->has_body;
  row.body = std::move(c->body);
  row.replaces = std::move(c->replaces);
  row.stanza = ev.stanza.xml();
  commit.add(*table_, std::move(row));
}

// The core gives subject changes no stanza-id: the archive names them (UUIDv7 like the room's
// stanza-ids) so they have a MAM id like every other archived stanza. They are not held (the
// core has already sent them), so the archive is best effort for subjects only.
void ArchivePlugin::on_subject_changed(const plugin::RoomView& room,
                                       const plugin::OccupantView& sender, const Element& message,
                                       plugin::Clock::time_point at) {
  const std::string id = uuid7();
  Element stored = message;
  stored.add_child("stanza-id", ns::sid).set_attr("id", id).set_attr("by", room.jid.bare_str());
  Row row;
  row.room_id = room.id;
  row.stanza_id = id;
  row.ts_us = std::chrono::duration_cast<std::chrono::microseconds>(at.time_since_epoch()).count();
  row.kind = Kind::subject;
  row.nick = sender.nick;
  row.sender_jid = sender.real_bare.bare_str();
  row.occupant_id = sender.occupant_id;
  row.has_body = true;
  row.body = std::string(message.child_text("subject"));
  row.stanza = stored.xml();
  journal::Commit commit;
  commit.add(*table_, std::move(row));
  host_->journal().submit(std::move(commit), {});
}

void ArchivePlugin::history(const plugin::RoomView& room, const plugin::HistoryRequest& req,
                            std::function<void(std::vector<Element>)> done) {
  HistoryLimits lim;
  lim.max_stanzas =
      std::min(req.max_stanzas.value_or(settings_.history_default), settings_.history_max);
  lim.max_chars = req.max_chars;
  const auto to_us = [](plugin::Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  };
  if (req.since) lim.since_us = to_us(*req.since);
  if (req.seconds) {
    const auto s = to_us(plugin::Clock::now() - *req.seconds);
    lim.since_us = lim.since_us ? std::max(*lim.since_us, s) : s;
  }
  const std::int64_t room_id = room.id;
  const std::string room_jid = room.jid.bare_str();
  host_->database().query(
      [room_id, room_jid, lim, bad = unreadable_](pqxx::connection_base& conn) {
        return read_history(conn, room_id, room_jid, lim, bad.get());
      },
      [done = std::move(done), room_jid](db::Result<std::vector<Element>> r) {
        if (!r) {
          // The join goes on without history rather than failing: the room is usable.
          log::warn("archive", "history for {} failed: {}", room_jid, r.error());
          return done({});
        }
        done(std::move(r).value());
      },
      db::QueryOptions{.idempotent = true});
}

}  // namespace salon::archive

std::unique_ptr<salon::plugin::Plugin> salon_make_plugin_archive() {
  return std::make_unique<salon::archive::ArchivePlugin>();
}
