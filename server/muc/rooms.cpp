// SPDX-License-Identifier: GPL-3.0-or-later
// Room lifecycle: lazy loading through the RoomStore (stanzas queue while a room loads, so
// their order is kept), routing of stanzas inside a room, views for plugins, idle unloading.
#include <algorithm>

#include <boost/asio/post.hpp>

#include "core/log.hpp"
#include "muc/ids.hpp"
#include "muc/impl.hpp"

namespace salon::muc {

void Service::Impl::route_to_room(const std::string& local, Element stanza, const Jid& from,
                                  const Jid& to) {
  if (auto it = rooms.find(local); it != rooms.end()) {
    std::shared_ptr<Room> room = it->second;
    if (room->state == Room::State::loading) {
      // A slow look-up (the database is busy or away) must not let stanzas pile up unbounded.
      if (room->queued.size() >= cfg.muc.max_queued_while_loading) {
        refused("loading_queue");
        return send_error(stanza, errors::resource_constraint("the room is loading: retry later"));
      }
      room->queued.push_back(std::move(stanza));
      return;
    }
    room_stanza(*room, stanza, from, to);
    return;
  }
  // Stanzas that need no answer don't justify loading a room: errors (no occupant to remove
  // in an unloaded room) and unavailable presence (nobody to remove).
  const std::string_view type = stanza.attr("type");
  if (type == "error" || (stanza.name() == "presence" && !type.empty())) return;
  if (known_missing(local)) {
    missing_room_hits.inc();
    return answer_missing_room(stanza);
  }

  auto room = std::make_shared<Room>();
  room->local = local;
  room->queued.push_back(std::move(stanza));
  rooms.emplace(local, room);
  rooms_loaded_gauge.set(static_cast<double>(rooms.size()));
  std::weak_ptr<int> life = alive;
  store.load_room(local, [this, life, local, generation = provisioned_generation](
                             std::optional<RoomRecord> rec, StoreError err) {
    if (life.expired()) return;
    on_room_loaded(local, std::move(rec), std::move(err), generation);
  });
}

bool Service::Impl::known_missing(const std::string& local) {
  auto it = missing_rooms.find(local);
  if (it == missing_rooms.end()) return false;
  if (it->second > std::chrono::steady_clock::now()) return true;
  missing_rooms.erase(it);
  return false;
}

void Service::Impl::remember_missing(const std::string& local) {
  const auto now = std::chrono::steady_clock::now();
  // Entries leave in order: expired ones first, then the oldest while over the bound. A queue
  // entry whose name was forgotten (provisioned) or remembered again later is skipped.
  auto drop_front = [this] {
    auto& [name, until] = missing_order.front();
    if (auto it = missing_rooms.find(name); it != missing_rooms.end() && it->second == until)
      missing_rooms.erase(it);
    missing_order.pop_front();
  };
  while (!missing_order.empty() && missing_order.front().second <= now)
    drop_front();
  while (!missing_order.empty() && missing_order.size() >= cfg.muc.missing_room_cache_entries)
    drop_front();
  const auto until = now + cfg.muc.missing_room_cache;
  missing_rooms[local] = until;
  missing_order.emplace_back(local, until);
}

void Service::Impl::answer_missing_room(const Element& stanza) {
  const std::string_view type = stanza.attr("type");
  if (type == "error" || type == "result") return;
  if (stanza.name() == "presence" && !type.empty()) return;
  // Rooms are provisioned by the marketplace; users cannot create them (XEP-0045 §7.2.10
  // treats a room that does not exist for the user like a locked one).
  send_error(stanza, errors::item_not_found("no such room"));
}

void Service::Impl::on_room_loaded(const std::string& local, std::optional<RoomRecord> rec,
                                   StoreError err, std::uint64_t generation) {
  auto it = rooms.find(local);
  if (it == rooms.end() || it->second->state != Room::State::loading) return;
  std::shared_ptr<Room> slot = it->second;
  if (err || !rec) {
    rooms.erase(it);
    rooms_loaded_gauge.set(static_cast<double>(rooms.size()));
    if (err) log::error("muc", "loading room {} failed: {}", local, err.message);
    if (!err && generation == provisioned_generation) remember_missing(local);
    for (const auto& s : slot->queued) {
      if (err)
        send_error(s, errors::internal_server_error("the room could not be loaded"));
      else
        answer_missing_room(s);
    }
    return;
  }
  std::shared_ptr<Room> room = make_room(*rec);
  room->queued = std::move(slot->queued);
  it->second = room;
  std::vector<Element> queued = std::move(room->queued);
  for (auto& s : queued) {
    if (room->destroyed) {
      answer_missing_room(s);
      continue;
    }
    const auto from = Jid::parse(s.attr("from"));
    const auto to = Jid::parse(s.attr("to"));
    if (from && to) room_stanza(*room, s, *from, *to);
  }
  if (!room->destroyed) maybe_unload(*room);
}

std::shared_ptr<Room> Service::Impl::make_room(const RoomRecord& record) {
  auto room = std::make_shared<Room>();
  room->state = Room::State::ready;
  room->local = record.local;
  room->jid = Jid::from_parts(record.local, domain).value_or(Jid{});
  for (const auto& a : record.affiliations) {
    const auto j = Jid::parse(a.jid);
    if (!j || a.affiliation == Affiliation::none) continue;
    room->affiliations[j->bare_str()] = Member{a.affiliation, a.nick};
  }
  // Everything but the affiliations (kept above, compactly): no copy of the vector at all.
  room->record.id = record.id;
  room->record.local = record.local;
  room->record.name = record.name;
  room->record.description = record.description;
  room->record.subject = record.subject;
  room->record.subject_nick = record.subject_nick;
  room->record.settings = record.settings;
  return room;
}

void Service::Impl::room_stanza(Room& room, const Element& stanza, const Jid& from, const Jid& to) {
  const std::string& kind = stanza.name();
  if (kind == "presence") {
    room_presence(room, stanza, from, to);
  } else if (kind == "message") {
    if (to.is_bare())
      room_message(room, stanza, from);
    else
      occupant_message(room, stanza, from, to.resource());
  } else if (kind == "iq") {
    if (to.is_bare())
      room_iq(room, stanza, from);
    else
      occupant_iq(room, stanza, from, to.resource());
  }
  if (!room.destroyed) maybe_unload(room);
}

void Service::Impl::maybe_unload(Room& room) {
  if (!room.idle() || stopping || room.state != Room::State::ready) return;
  room.idle_since = std::chrono::steady_clock::now();
  if (room.idle_queued) return;  // the sweep sees the new idle_since and waits longer
  auto it = rooms.find(room.local);
  if (it == rooms.end()) return;
  room.idle_queued = true;
  idle_queue.push_back({it->second, room.idle_since});
  // Earlier than the armed sweep only when idle_unload was shortened by a reload.
  const auto due = room.idle_since + cfg.muc.idle_unload;
  if (!idle_sweep_armed || idle_sweep.expiry() > due) arm_idle_sweep(due);
}

void Service::Impl::arm_idle_sweep(std::chrono::steady_clock::time_point at) {
  idle_sweep_armed = true;
  idle_sweep.expires_at(at);
  std::weak_ptr<int> life = alive;
  idle_sweep.async_wait([this, life](const boost::system::error_code& ec) {
    if (ec || life.expired()) return;
    idle_sweep_armed = false;
    sweep_idle();
  });
}

void Service::Impl::sweep_idle() {
  const auto now = std::chrono::steady_clock::now();
  const auto wait = cfg.muc.idle_unload;
  while (!idle_queue.empty() && idle_queue.front().since + wait <= now) {
    IdleEntry e = std::move(idle_queue.front());
    idle_queue.pop_front();
    auto room = e.room.lock();
    if (!room) continue;
    room->idle_queued = false;
    if (!room->idle() || stopping || room->state != Room::State::ready) continue;
    if (room->idle_since + wait <= now) {
      unload(room->local);
    } else {  // touched since it was queued: wait for the rest of its idle time
      room->idle_queued = true;
      idle_queue.push_back({room, room->idle_since});
    }
  }
  if (idle_queue.empty() || stopping) return;
  // A re-queued entry behind later ones may wait up to one extra period: unloading means
  // "idle for at least idle_unload", not a deadline.
  arm_idle_sweep(std::max(idle_queue.front().since + wait, now + wait / 8));
}

void Service::Impl::queue_write(Room& room, std::function<void(Room&, WriteTurn)> op) {
  room.writes.push_back(std::move(op));
  if (!room.writing) next_write(room);
}

void Service::Impl::next_write(Room& room) {
  if (room.writes.empty() || room.destroyed) {
    room.writing = false;
    if (!room.destroyed) maybe_unload(room);
    return;
  }
  room.writing = true;
  auto op = std::move(room.writes.front());
  room.writes.pop_front();
  std::weak_ptr<Room> weak = rooms.at(room.local);
  std::weak_ptr<int> life = alive;
  // The token may die on whichever thread drops the last copy, even after the service is
  // gone (a database worker dropping a callback): hop back to the loop, touch nothing else.
  WriteTurn turn(nullptr, [this, &loop = io, weak, life](void*) {
    boost::asio::post(loop, [this, weak, life] {
      if (life.expired()) return;
      if (auto r = weak.lock()) next_write(*r);
    });
  });
  op(room, std::move(turn));
}

void Service::Impl::unload(const std::string& local) {
  auto it = rooms.find(local);
  if (it == rooms.end()) return;
  log::debug("muc", "unloading room {}", local);
  // Keep the object alive until this handler returns; its timers may be the caller.
  std::shared_ptr<Room> keep = it->second;
  rooms.erase(it);
  rooms_loaded_gauge.set(static_cast<double>(rooms.size()));
  boost::asio::post(io, [keep] {});
}

plugin::RoomView Service::Impl::room_view(const Room& room) const {
  plugin::RoomView v;
  v.jid = room.jid;
  v.id = room.record.id;
  v.name = room.record.name;
  v.description = room.record.description;
  v.occupant_count = room.occupants.size();
  v.affiliation_of = [&room](const Jid& bare) { return room.affiliation_of(bare); };
  v.for_each_member = [&room](const plugin::RoomView::MemberVisitor& visit) {
    // Rooms hold a handful of occupants: a scan beats building a set per message.
    const auto joined = [&room](const std::string& bare) {
      return std::any_of(room.occupants.begin(), room.occupants.end(),
                         [&](const auto& o) { return o.second.bare.bare_str() == bare; });
    };
    for (const auto& [bare, m] : room.affiliations)
      if (rank(m.affiliation) >= rank(Affiliation::member))
        visit(bare, m.affiliation, joined(bare));
  };
  return v;
}

plugin::OccupantView Service::Impl::occupant_view(const Room& room, const Occupant& o) const {
  plugin::OccupantView v;
  v.occupant_jid = room.jid.with_resource(o.nick);
  v.nick = o.nick;
  v.real_bare = o.bare;
  for (const auto& s : o.sessions)
    v.resources.push_back(s.real);
  v.occupant_id = o.occupant_id;
  v.role = o.role;
  v.affiliation = room.affiliation_of(o.bare);
  return v;
}

std::string Service::Impl::make_occupant_id(const Room& room, const Jid& bare) const {
  return occupant_id(occupant_id_key, room.jid.bare_str(), bare.bare_str());
}

}  // namespace salon::muc
