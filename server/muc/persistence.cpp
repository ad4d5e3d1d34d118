// SPDX-License-Identifier: GPL-3.0-or-later
// Restart invisibility: each room's occupant set is written behind (coalesced, at most one
// write per room every ~200 ms, always the full set) and restored at start-up without a
// single presence, so clients carry on as if nothing happened. SIGTERM flushes; nobody gets
// an unavailable/332 (Converse would not rejoin). A restored resource that is really gone is
// removed by ghost removal on its first bounce.
#include "core/log.hpp"
#include "core/xml_parse.hpp"
#include "muc/impl.hpp"

namespace salon::muc {

namespace {
constexpr std::chrono::milliseconds kWriteBehind{200};
}

void Service::Impl::mark_dirty(Room& room) {
  if (room.destroyed || room.state != Room::State::ready) return;
  room.dirty = true;
  if (room.save_armed || room.saving) return;  // the pending write will pick it up
  if (stopping) return save_occupants(room);
  room.save_armed = true;
  if (!room.save_timer) room.save_timer = std::make_unique<boost::asio::steady_timer>(io);
  room.save_timer->expires_after(kWriteBehind);
  std::weak_ptr<int> life = alive;
  std::weak_ptr<Room> weak;
  if (auto it = rooms.find(room.local); it != rooms.end()) weak = it->second;
  room.save_timer->async_wait([this, life, weak](const boost::system::error_code& ec) {
    if (ec || life.expired()) return;
    auto r = weak.lock();
    if (!r || r->destroyed || !r->save_armed) return;
    r->save_armed = false;
    save_occupants(*r);
  });
}

void Service::Impl::save_occupants(Room& room) {
  room.dirty = false;
  room.saving = true;
  std::vector<PersistedOccupant> rows;
  for (const auto& [nick, o] : room.occupants)
    for (const auto& s : o.sessions)
      rows.push_back(
          PersistedOccupant{nick, s.real.str(), std::string(to_string(o.role)), s.presence.xml()});
  std::weak_ptr<int> life = alive;
  std::weak_ptr<Room> weak;
  if (auto it = rooms.find(room.local); it != rooms.end()) weak = it->second;
  store.save_occupants(room.record.id, std::move(rows), [this, life, weak](StoreError err) {
    if (life.expired()) return;
    auto r = weak.lock();
    if (r) {
      r->saving = false;
      if (err) {
        log::error("muc", "saving occupants of {} failed: {}", r->local, err.message);
        r->dirty = true;  // retried by the next write
      }
      if (r->dirty && !r->destroyed)
        mark_dirty(*r);
      else if (!r->destroyed)
        maybe_unload(*r);
    }
    check_flushed();
  });
}

void Service::Impl::flush_all(std::function<void()> done) {
  stop_done = std::move(done);
  idle_sweep.cancel();
  std::vector<std::shared_ptr<Room>> all;
  for (auto& [local, room] : rooms)
    all.push_back(room);
  for (auto& room : all) {
    if (room->save_armed) {
      room->save_armed = false;
      if (room->save_timer) room->save_timer->cancel();
    }
    if (room->dirty && !room->saving && !room->destroyed) save_occupants(*room);
  }
  // Forwarded IQs will not get their answer through us any more.
  for (auto& [id, f] : forwards)
    f.reply->error(errors::service_unavailable("the service is shutting down"));
  forwards.clear();
  check_flushed();
}

void Service::Impl::check_flushed() {
  if (!stopping || !stop_done) return;
  for (const auto& [local, room] : rooms)
    if (room->saving || room->dirty) return;
  auto done = std::move(stop_done);
  stop_done = nullptr;
  done();
}

void Service::Impl::restore(std::vector<RestoredRoom> restored) {
  std::size_t count = 0;
  for (auto& rr : restored) {
    if (rooms.count(rr.room.local)) continue;
    std::shared_ptr<Room> room = make_room(rr.room);
    bool dropped = false;
    for (const auto& po : rr.occupants) {
      const auto real = Jid::parse(po.real_jid);
      const auto nick = Jid::resourceprep(po.nick);
      const Affiliation aff = real ? room->affiliation_of(real->bare()) : Affiliation::none;
      // Membership may have been revoked while we were down.
      if (!real || real->is_bare() || !nick || rank(aff) < rank(Affiliation::member)) {
        dropped = true;
        continue;
      }
      Occupant& o = room->occupants[*nick];
      if (o.sessions.empty()) {
        o.nick = *nick;
        o.bare = real->bare();
        o.role = parse_role(po.role).value_or(default_role(aff));
        if (o.role == Role::none) o.role = default_role(aff);
        o.occupant_id = make_occupant_id(*room, o.bare);
        occupants_changed(+1);
        ++count;
      } else if (o.bare != real->bare() || o.session(*real)) {
        dropped = true;
        continue;
      }
      Session s;
      s.real = *real;
      auto parsed = parse_xml(po.presence_xml);
      s.presence = parsed ? client_payload(*parsed) : Element("presence");
      s.updated = ++session_seq;
      o.sessions.push_back(std::move(s));
      room->nick_of[*real] = *nick;
    }
    for (auto& [nick, o] : room->occupants)
      o.last_broadcast = o.primary().presence.xml();
    rooms.emplace(room->local, room);
    if (dropped) mark_dirty(*room);
    maybe_unload(*room);
  }
  rooms_loaded_gauge.set(static_cast<double>(rooms.size()));
  if (count) log::info("muc", "restored {} occupants in {} rooms", count, restored.size());
  restoring = false;
  std::vector<Element> queued = std::move(restore_queue);
  for (auto& s : queued)
    handle(std::move(s));
}

}  // namespace salon::muc
