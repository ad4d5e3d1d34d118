// SPDX-License-Identifier: GPL-3.0-or-later
// muc#owner (XEP-0045 §10.2, §10.9): the room configuration form (name, description, subject
// changes, private messages; persistence, membership and real-JID visibility are fixed by the
// service) and room destruction, by owners over XMPP or by the provisioning API.
#include "core/log.hpp"
#include "muc/impl.hpp"
#include "muc/owner_form.hpp"

namespace salon::muc {

void Service::Impl::owner_get(Room& room, const Jid& from, IqResponder reply) {
  if (room.affiliation_of(from) != Affiliation::owner)
    return reply.error(errors::forbidden("only owners configure the room"));
  reply.result(config_form(room.record, room.jid.bare_str()));
}

void Service::Impl::owner_set(Room& room, const Element& q, const Jid& from, IqResponder reply,
                              WriteTurn turn) {
  if (room.destroyed) return reply.error(errors::item_not_found("room destroyed"));
  if (room.affiliation_of(from) != Affiliation::owner)
    return reply.error(errors::forbidden("only owners configure or destroy the room"));
  auto parsed = parse_owner_set(q);
  if (auto* err = std::get_if<StanzaError>(&parsed)) return reply.error(*err);
  OwnerSet& set = std::get<OwnerSet>(parsed);
  if (set.kind == OwnerSet::Kind::instant) return reply.result();  // it exists already
  if (set.kind == OwnerSet::Kind::cancel) return reply.result();   // §10.2: as it was
  std::weak_ptr<Room> weak = rooms.at(room.local);
  std::weak_ptr<int> life = alive;
  auto shared = std::make_shared<IqResponder>(std::move(reply));

  if (set.kind == OwnerSet::Kind::destroy) {
    Element destroy = std::move(set.destroy);
    ++room.busy;
    store.delete_room(room.local, [this, life, weak, shared, destroy, turn](bool, StoreError err) {
      if (life.expired()) return;
      auto r = weak.lock();
      if (r) --r->busy;
      if (err) {
        log::error("muc", "deleting a room failed: {}", err.message);
        return shared->error(errors::internal_server_error());
      }
      if (r && !r->destroyed) destroy_room(*r, &destroy);
      shared->result();
    });
    return;
  }
  RoomRecord next = room.record;
  if (auto err = apply_config_form(set.fields, next)) return shared->error(*err);
  const auto& cur = room.record;
  if (next.name == cur.name && next.description == cur.description &&
      next.settings.members_can_change_subject == cur.settings.members_can_change_subject &&
      next.settings.allow_private_messages == cur.settings.allow_private_messages)
    return shared->result();
  ++room.busy;
  store.save_room(next, [this, life, weak, shared, next, turn](StoreError err) {
    if (life.expired()) return;
    auto r = weak.lock();
    if (r) --r->busy;
    if (err) {
      log::error("muc", "saving room configuration failed: {}", err.message);
      return shared->error(errors::internal_server_error());
    }
    shared->result();
    if (!r || r->destroyed) return;
    r->record.name = next.name;
    r->record.description = next.description;
    r->record.settings = next.settings;
    // §10.2.1: status 104, "the configuration changed", to every occupant.
    Element m("message");
    m.set_attr("type", "groupchat");
    m.set_attr("from", r->jid.bare_str());
    m.add_child("x", ns::muc_user).add_child("status").set_attr("code", "104");
    for (auto& [nick, o] : r->occupants)
      for (const auto& s : o.sessions)
        deliver(*r, s.real, m);
    maybe_unload(*r);
  });
}

void Service::Impl::destroy_room(Room& room, const Element* destroy) {
  room.destroyed = true;
  // §10.9: exactly one unavailable presence per occupant resource, with <destroy/>.
  Element d("destroy");
  if (destroy) {
    if (auto j = Jid::parse(destroy->attr("jid"))) d.set_attr("jid", j->str());
    // The reason and the alternate venue's password are relayed as given (§10.9).
    for (const char* name : {"reason", "password"})
      if (destroy->child(name)) d.add_child(name).set_text(std::string(destroy->child_text(name)));
  }
  MucX x;
  x.destroy = &d;
  x.affiliation = Affiliation::none;
  const auto view = room_view(room);
  for (auto& [nick, o] : room.occupants) {
    for (const auto& s : o.sessions) {
      Element p = build_presence(room, o, Element("presence"), true, Role::none, s.real, x, true);
      p.set_attr("to", s.real.str());
      send(std::move(p));
    }
    const auto ov = occupant_view(room, o);
    fire(plugin::Hook::occupant_left, [&](plugin::Plugin& pl) { pl.on_occupant_left(view, ov); });
  }
  occupants_changed(-static_cast<long>(room.occupants.size()));
  room.occupants.clear();
  room.nick_of.clear();
  room.outbox.clear();
  fire(plugin::Hook::room_destroyed, [&](plugin::Plugin& pl) { pl.on_room_destroyed(view); });
  unload(room.local);
}

void Service::project_deleted(const std::string& local) {
  Impl& s = *impl_;
  auto it = s.rooms.find(local);
  if (it == s.rooms.end() || it->second->state != Room::State::ready) return;
  std::shared_ptr<Room> keep = it->second;
  if (!keep->destroyed) s.destroy_room(*keep, nullptr);
}

}  // namespace salon::muc
