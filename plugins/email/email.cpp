// SPDX-License-Identifier: GPL-3.0-or-later
#include "email.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <pqxx/pqxx>

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "db/database.hpp"
#include "journal/journal.hpp"
#include "read_state.hpp"
#include "sender.hpp"

namespace salon::email {
namespace {

constexpr std::string_view kCorrect = "urn:xmpp:message-correct:0";
constexpr std::string_view kRetract = "urn:xmpp:message-retract:1";

std::int64_t micros(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

}  // namespace

bool notifiable(const Element& m) {
  const Element* body = m.child("body");
  if (!body || body->text().find_first_not_of(" \t\r\n") == std::string::npos) return false;
  return !m.child("replace", kCorrect) && !m.child("retract", kRetract);
}

EmailPlugin::EmailPlugin() = default;
EmailPlugin::~EmailPlugin() = default;

std::optional<std::string> EmailPlugin::check(const config::PluginSection& section) const {
  auto s = read_settings(section);
  if (auto* err = std::get_if<std::string>(&s)) return *err;
  auto t = Templates::load(std::get<Settings>(s).templates_dir);
  if (auto* err = std::get_if<std::string>(&t)) return "plugins.email templates: " + *err;
  return std::nullopt;
}

std::optional<std::string> EmailPlugin::start(plugin::Host& host,
                                              const config::PluginSection& section) {
  auto s = read_settings(section);
  if (auto* err = std::get_if<std::string>(&s)) return *err;
  auto t = Templates::load(std::get<Settings>(s).templates_dir);
  if (auto* err = std::get_if<std::string>(&t)) return "plugins.email templates: " + *err;
  auto* read_state = dynamic_cast<markers::ReadState*>(host.provider("read-state"));
  if (!read_state) return "plugins.email needs the read-state service (enable [plugins.markers])";
  settings_ = std::move(std::get<Settings>(s));
  host_ = &host;
  started_us_ = micros(std::chrono::system_clock::now());
  enqueued_ = &host.metrics().counter("salon_email_enqueued_total",
                                      "Pending notifications stored (member missed a message)");
  table_ = &host.journal().add_table<PendingTable>(
      settings_.delay, [this](PendingTable::Rows rows, std::int64_t n) { committed(rows, n); },
      [this] { unsure(); });
  read_state->on_read([this](const plugin::RoomView& room, const std::string& bare,
                             const markers::ReadPosition& pos) { on_read(room, bare, pos); });
  std::weak_ptr<int> life = alive_;
  sender_ = std::make_unique<Sender>(
      Sender::Deps{host.database(), host.metrics(), host.service_domain(),
                   [this, life](std::vector<Handled> rows) {
                     boost::asio::post(host_->loop(), [this, life, rows = std::move(rows)] {
                       if (!life.expired()) handled(rows);
                     });
                   }},
      settings_, std::make_shared<const Templates>(std::move(std::get<Templates>(t))));
  host.add_readiness_check("smtp", [this]() -> CheckResult {
    if (!sender_) return {};
    const auto st = sender_->smtp_state();
    if (!st.tried || st.up) return {};
    return {CheckState::degraded, "the last attempt failed: " + st.detail};
  });
  add_routes();
  load_pending();
  sender_->start();
  return std::nullopt;
}

std::optional<std::string> EmailPlugin::reload(const config::PluginSection& section) {
  auto s = read_settings(section);
  if (auto* err = std::get_if<std::string>(&s)) return *err;
  auto t = Templates::load(std::get<Settings>(s).templates_dir);
  if (auto* err = std::get_if<std::string>(&t)) return "plugins.email templates: " + *err;
  settings_ = std::move(std::get<Settings>(s));
  if (table_) table_->set_delay(settings_.delay);
  if (sender_)
    sender_->update(settings_,
                    std::make_shared<const Templates>(std::move(std::get<Templates>(t))));
  return std::nullopt;
}

void EmailPlugin::stop() {
  if (sender_) sender_->stop();
  alive_ = std::make_shared<int>(0);  // what the sender posted is dropped
}

void EmailPlugin::wake_sender() {
  if (sender_) sender_->wake();
}

Counter& EmailPlugin::cancelled(std::string_view reason) {
  return host_->metrics().counter("salon_email_cancelled_total",
                                  "Pending notifications dropped, by reason",
                                  {{"reason", std::string(reason)}});
}

void EmailPlugin::on_message_commit(const plugin::MessageEvent& ev, journal::Commit& commit) {
  if (!notifiable(ev.stanza) || !ev.room.for_each_member) return;
  const std::int64_t at = micros(ev.received_at);
  const std::string sender = ev.sender.real_bare.bare_str();
  ev.room.for_each_member([&](const std::string& bare, plugin::Affiliation, bool joined) {
    if (joined || bare == sender) return;
    // One row per absent member, not one per message.
    if (!tracker_.missed(ev.room.id, bare, at)) return;
    commit.add(*table_, PendingOp{PendingOp::Kind::missed, ev.room.id, bare, ev.stanza_id, at});
  });
}

void EmailPlugin::on_occupant_joined(const plugin::RoomView& room, const plugin::OccupantView& o) {
  cancel(room.id, o.real_bare.bare_str(), "joined");
}

void EmailPlugin::on_read(const plugin::RoomView& room, const std::string& bare,
                          const markers::ReadPosition& pos) {
  // Writing in the room means the member is there. A marker for an older message than the
  // last they missed leaves the row: the digest shows only what is after the read position
  // (claim.cpp).
  if (pos.source == markers::ReadPosition::Source::message) return cancel(room.id, bare, "wrote");
  if (tracker_.read(room.id, bare, micros(pos.at))) {
    cancelled("read").inc();
    submit(PendingOp{PendingOp::Kind::cancel, room.id, bare, {}, 0});
  }
}

void EmailPlugin::on_member_changed(const plugin::RoomView& room, const std::string& bare,
                                    plugin::Affiliation now) {
  // A new address or affiliation: the next missed message is judged afresh (the SQL knows the
  // address). Someone removed gets nothing more from this room.
  if (now == plugin::Affiliation::none || now == plugin::Affiliation::outcast)
    cancel(room.id, bare, "not_member");
  else
    forget(bare, room.id);
}

void EmailPlugin::on_room_destroyed(const plugin::RoomView& room) {
  tracker_.forget_room(room.id);  // the rows go with the room (ON DELETE CASCADE)
}

void EmailPlugin::forget(const std::string& bare, std::int64_t room_id) {
  tracker_.forget(bare, room_id);
}

void EmailPlugin::cancel(std::int64_t room_id, const std::string& bare, std::string_view reason) {
  if (!tracker_.cancel(room_id, bare)) return;
  cancelled(reason).inc();
  submit(PendingOp{PendingOp::Kind::cancel, room_id, bare, {}, 0});
}

void EmailPlugin::submit(PendingOp op) {
  journal::Commit c;
  c.add(*table_, std::move(op));
  host_->journal().submit(std::move(c), {});
}

void EmailPlugin::handled(const std::vector<Handled>& rows) {
  // Missed again after what the digest covered, while the row stood for it: queue anew.
  for (const Handled& h : rows)
    if (tracker_.handled(h.room_id, h.jid, h.through_us))
      submit(PendingOp{PendingOp::Kind::missed, h.room_id, h.jid, {}, h.through_us + 1});
}

void EmailPlugin::committed(PendingTable::Rows rows, std::int64_t enqueued) {
  enqueued_->inc(static_cast<std::uint64_t>(std::max<std::int64_t>(0, enqueued)));
  for (const PendingOp* op : rows)
    if (op->kind == PendingOp::Kind::missed) tracker_.stored(op->room_id, op->jid);
  if (enqueued > 0) wake_sender();
}

void EmailPlugin::unsure() {
  // Whether the rows landed is unknown: the next missed message adds them again (ON CONFLICT
  // DO NOTHING makes a second row harmless).
  tracker_.unsure();
}

// At start the loop learns which rows exist (a restart keeps them): until then it cancels
// without knowing, and adds rows without knowing, which the SQL makes harmless.
void EmailPlugin::load_pending() {
  std::weak_ptr<int> life = alive_;
  host_->database().query(
      [](pqxx::connection_base& conn) {
        pqxx::read_transaction tx(conn, "email-load");
        std::vector<PendingTracker::Key> keys;
        for (const auto& r : tx.exec("SELECT room_id, jid FROM email_pending"))
          keys.emplace_back(r[0].as<std::int64_t>(), r[1].as<std::string>());
        return keys;
      },
      [this, life](db::Result<std::vector<PendingTracker::Key>> r) {
        if (life.expired()) return;
        if (!r) {
          log::warn("email", "reading pending notifications failed (retrying): {}", r.error());
          auto timer =
              std::make_shared<boost::asio::steady_timer>(host_->loop(), std::chrono::seconds(2));
          timer->async_wait([this, life, timer](const boost::system::error_code& ec) {
            if (!ec && !life.expired()) load_pending();
          });
          return;
        }
        tracker_.load(r.value(), started_us_);
      },
      db::QueryOptions{.idempotent = true});
}

}  // namespace salon::email

std::unique_ptr<salon::plugin::Plugin> salon_make_plugin_email() {
  return std::make_unique<salon::email::EmailPlugin>();
}
