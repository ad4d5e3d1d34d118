// SPDX-License-Identifier: GPL-3.0-or-later
// muc#admin (XEP-0045 §8, §9, §10.3-10.8): affiliation lists (answered from memory: Converse
// waits for the member/admin/owner lists on every join), affiliation changes (persisted
// through the RoomStore, then applied and announced), role changes and kicks; and live
// application of provisioning changes (Service::project_changed).
#include <fmt/format.h>

#include <span>

#include "core/log.hpp"
#include "core/text.hpp"
#include "muc/admin_items.hpp"
#include "muc/impl.hpp"

namespace salon::muc {

namespace {
// An item once its user is known: parse_admin_item() plus, for a change by nick, the room.
using Change = AdminItem;

Role actor_role(Room& room, const Jid& from) {
  if (Occupant* o = room.occupant_by_real(from)) return o->role;
  return default_role(room.affiliation_of(from));
}

std::optional<StanzaError> check_affiliation_change(const Room& room, const Jid& actor,
                                                    const Change& c) {
  const Affiliation mine = room.affiliation_of(actor);
  const Affiliation current = room.affiliation_of(c.bare);
  if (rank(mine) < rank(Affiliation::admin))
    return errors::forbidden("only admins and owners change affiliations");
  if (c.affiliation == Affiliation::outcast && c.bare == actor.bare_str())
    return errors::conflict("you cannot ban yourself");
  if (mine == Affiliation::admin) {
    // §10: only owners edit the admin and owner lists; §9.1: nobody bans a higher affiliation.
    if (c.affiliation == Affiliation::admin || c.affiliation == Affiliation::owner)
      return errors::forbidden("only owners grant admin or owner status");
    if (current == Affiliation::admin || current == Affiliation::owner)
      return c.affiliation == Affiliation::outcast
                 ? errors::not_allowed("you cannot ban an admin or owner")
                 : errors::forbidden("only owners change admins and owners");
  }
  return std::nullopt;
}

// A reserved nick must be one its user can join with, and one no other member holds
// (whatever its case: the store's unique index is on lower(nick)). `earlier` are the changes
// before this one in the same request.
std::optional<StanzaError> check_reserved_nick(const Room& room, const Change& c,
                                               std::span<const Change> earlier,
                                               std::size_t max_chars) {
  if (!c.nick_given || c.is_role || c.affiliation == Affiliation::outcast ||
      c.affiliation == Affiliation::none)
    return std::nullopt;
  if (utf8_length(c.nick) > max_chars)
    return errors::not_acceptable(fmt::format("nicks are at most {} characters", max_chars));
  const auto key = nick_key(c.nick);
  for (const auto& [jid, a] : room.affiliations)
    if (jid != c.bare && !a.nick.empty() && nick_key(a.nick) == key)
      return errors::conflict("that nick is reserved by another member");
  for (const Change& e : earlier)
    if (!e.is_role && e.nick_given && e.bare != c.bare && nick_key(e.nick) == key)
      return errors::conflict("two members cannot reserve the same nick");
  return std::nullopt;
}

std::optional<StanzaError> check_role_change(Room& room, const Jid& actor, const Change& c) {
  if (actor_role(room, actor) != Role::moderator)
    return errors::forbidden("only moderators change roles");
  Occupant* target = room.occupant_by_nick(c.nick);
  if (!target) return errors::item_not_found("no such occupant");
  const Affiliation mine = room.affiliation_of(actor);
  const Affiliation theirs = room.affiliation_of(target->bare);
  // §5.1.1, §8.2, §8.4: admins and owners keep their voice and can't be kicked.
  if (c.role != Role::moderator && (theirs == Affiliation::admin || theirs == Affiliation::owner))
    return errors::not_allowed("admins and owners keep their role");
  if (c.role == Role::none && rank(theirs) > rank(mine))
    return errors::not_allowed("you cannot kick a user with a higher affiliation");
  if ((c.role == Role::moderator || target->role == Role::moderator) &&
      rank(mine) < rank(Affiliation::admin))
    return errors::forbidden("only admins and owners grant or revoke moderator status");
  return std::nullopt;
}

// The room's half of parsing an item: an affiliation change by nick names an occupant,
// whose user it means.
std::optional<StanzaError> resolve_item(Room& room, const Jid& actor, Change& c) {
  if (!c.by_nick) return std::nullopt;
  // Permission before the look-up: whether a nick is in the room is not for anyone who
  // asks (an outsider learnt it from item-not-found versus forbidden).
  if (rank(room.affiliation_of(actor)) < rank(Affiliation::admin))
    return errors::forbidden("only admins and owners change affiliations");
  Occupant* o = room.occupant_by_nick(c.nick);
  if (!o) return errors::item_not_found("no such occupant");
  c.bare = o->bare.bare_str();
  c.by_nick = false;
  c.nick_given = false;  // the nick named the occupant; it is not a reservation
  return std::nullopt;
}
}  // namespace

void Service::Impl::admin_get(Room& room, const Element& q, const Jid& from, IqResponder reply) {
  const auto list = parse_admin_get(q);
  if (const auto* err = std::get_if<StanzaError>(&list)) return reply.error(*err);
  const AdminList& wanted_list = std::get<AdminList>(list);
  Element out("query", ns::muc_admin);
  if (const auto* wanted = std::get_if<Affiliation>(&wanted_list)) {
    // Non-anonymous members-only room: members may read who is in the project; the ban
    // list is for admins.
    const Affiliation need =
        *wanted == Affiliation::outcast ? Affiliation::admin : Affiliation::member;
    if (rank(room.affiliation_of(from)) < rank(need)) return reply.error(errors::forbidden());
    for (const auto& [jid, a] : room.affiliations) {
      if (a.affiliation != *wanted) continue;
      Element& i = out.add_child("item");
      i.set_attr("affiliation", std::string(to_string(a.affiliation)));
      i.set_attr("jid", jid);
      if (!a.nick.empty()) i.set_attr("nick", a.nick);
    }
    return reply.result(std::move(out));
  }
  const Role wanted = std::get<Role>(wanted_list);
  if (actor_role(room, from) != Role::moderator) return reply.error(errors::forbidden());
  for (const auto& [nick, o] : room.occupants) {
    if (o.role != wanted) continue;
    Element& i = out.add_child("item");
    i.set_attr("affiliation", std::string(to_string(room.affiliation_of(o.bare))));
    i.set_attr("jid", o.primary().real.str());
    i.set_attr("nick", nick);
    i.set_attr("role", std::string(to_string(o.role)));
  }
  reply.result(std::move(out));
}

void Service::Impl::admin_set(Room& room, const Element& q, const Jid& from, IqResponder reply,
                              WriteTurn turn) {
  if (room.destroyed) return reply.error(errors::item_not_found("room destroyed"));
  std::vector<Change> changes;
  for (const Element* item : q.children_named("item")) {
    auto parsed = parse_admin_item(*item);
    if (auto* err = std::get_if<StanzaError>(&parsed)) return reply.error(*err);
    Change c = std::get<AdminItem>(std::move(parsed));
    if (auto err = resolve_item(room, from, c)) return reply.error(*err);
    if (auto err =
            c.is_role ? check_role_change(room, from, c) : check_affiliation_change(room, from, c))
      return reply.error(*err);
    if (auto err = check_reserved_nick(room, c, changes, cfg.muc.max_nick_chars))
      return reply.error(*err);
    changes.push_back(std::move(c));
  }
  if (changes.empty()) return reply.error(errors::bad_request("no item"));
  // §10: a room always keeps an owner.
  std::map<std::string, Affiliation> after;
  for (const auto& [jid, a] : room.affiliations)
    after[jid] = a.affiliation;
  for (const auto& c : changes)
    if (!c.is_role) after[c.bare] = c.affiliation;
  if (std::none_of(after.begin(), after.end(),
                   [](const auto& kv) { return kv.second == Affiliation::owner; }))
    return reply.error(errors::conflict("the room needs an owner"));

  Actor actor{from, {}};
  if (Occupant* o = room.occupant_by_real(from)) actor.nick = o->nick;

  // Affiliations are committed to the store first, then applied and announced.
  struct Batch {
    std::vector<Change> changes;
    std::vector<AffiliationRecord> records;  // parallel to changes (unused for roles)
    std::size_t pending = 0;
    bool failed = false;
    IqResponder reply;
    Actor actor;
    WriteTurn turn;  // the room's next stored change starts when this batch is gone
  };
  auto batch = std::make_shared<Batch>(
      Batch{std::move(changes), {}, 0, false, std::move(reply), std::move(actor), std::move(turn)});
  std::weak_ptr<Room> weak = rooms.at(room.local);
  auto finish = [this, weak, batch] {
    auto r = weak.lock();
    if (r) --r->busy;
    if (!r || r->destroyed) return batch->reply.error(errors::item_not_found("room destroyed"));
    if (batch->failed) return batch->reply.error(errors::internal_server_error());
    for (std::size_t i = 0; i < batch->changes.size(); ++i) {
      const Change& c = batch->changes[i];
      if (c.is_role)
        apply_role(*r, c.nick, c.role, &batch->actor, c.reason);
      else
        apply_affiliation(*r, c.bare, batch->records[i], &batch->actor, c.reason);
    }
    batch->reply.result();
    maybe_unload(*r);
  };
  ++room.busy;
  batch->records.resize(batch->changes.size());
  for (std::size_t i = 0; i < batch->changes.size(); ++i) {
    const Change& c = batch->changes[i];
    if (c.is_role) continue;
    AffiliationRecord rec;
    if (auto it = room.affiliations.find(c.bare); it != room.affiliations.end())
      rec.nick = it->second.nick;  // kept unless the change reserves another
    rec.jid = c.bare;
    rec.affiliation = c.affiliation;
    rec.reason = c.reason;
    if (c.nick_given) rec.nick = c.nick;
    if (c.affiliation == Affiliation::outcast) rec.nick.clear();  // §9.1: no reserved nick
    batch->records[i] = rec;
    ++batch->pending;
  }
  if (batch->pending == 0) return finish();
  std::weak_ptr<int> life = alive;
  for (const auto& rec : batch->records) {
    if (rec.jid.empty()) continue;
    store.set_affiliation(room.record.id, rec, [life, batch, finish](StoreError err) {
      if (life.expired()) return;
      if (err) {
        log::error("muc", "set_affiliation failed: {}", err.message);
        batch->failed = true;
      }
      if (--batch->pending == 0) finish();
    });
  }
}

void Service::Impl::apply_affiliation(Room& room, const std::string& bare,
                                      std::optional<AffiliationRecord> rec, const Actor* actor,
                                      const std::string& reason) {
  const Affiliation now = rec ? rec->affiliation : Affiliation::none;
  if (rec && now != Affiliation::none)
    room.affiliations[bare] = Member{now, std::move(rec->nick)};
  else
    room.affiliations.erase(bare);
  {
    const auto view = room_view(room);
    fire(plugin::Hook::member_changed,
         [&](plugin::Plugin& pl) { pl.on_member_changed(view, bare, now); });
  }

  std::vector<std::string> nicks;
  for (const auto& [nick, o] : room.occupants)
    if (o.bare.bare_str() == bare) nicks.push_back(nick);
  for (const auto& nick : nicks) {
    MucX x;
    if (actor) {
      x.actor_nick = actor->nick;
      x.actor_jid = actor->real.bare_str();
    }
    x.reason = reason;
    if (now == Affiliation::outcast) {
      x.codes = {301};  // banned
      remove_occupant(room, nick, std::move(x), Element("presence"));
    } else if (rank(now) < rank(Affiliation::member)) {
      x.codes = {321};  // removed: no longer a member of a members-only room
      remove_occupant(room, nick, std::move(x), Element("presence"));
    } else {
      Occupant& o = room.occupants.at(nick);
      o.role = default_role(now);
      publicise(room, o, x);
      mark_dirty(room);
    }
  }
}

void Service::Impl::apply_role(Room& room, const std::string& nick, Role role, const Actor* actor,
                               const std::string& reason) {
  Occupant* o = room.occupant_by_nick(nick);
  if (!o) return;
  MucX x;
  if (actor) {
    x.actor_nick = actor->nick;
    x.actor_jid = actor->real.bare_str();
  }
  x.reason = reason;
  if (role == Role::none) {
    x.codes = {307};  // kicked
    remove_occupant(room, nick, std::move(x), Element("presence"));
    return;
  }
  o->role = role;
  publicise(room, *o, x);
  mark_dirty(room);
}

void Service::project_changed(const RoomRecord& record) {
  Impl& s = *impl_;
  // A room just provisioned exists from now on, also for a load already under way.
  ++s.provisioned_generation;
  s.missing_rooms.erase(record.local);
  auto it = s.rooms.find(record.local);
  if (it == s.rooms.end() || it->second->state != Room::State::ready) return;
  Room& room = *it->second;
  room.record.id = record.id;
  room.record.name = record.name;
  room.record.description = record.description;
  room.record.settings = record.settings;
  std::map<std::string, AffiliationRecord> next;
  for (const auto& a : record.affiliations) {
    auto j = Jid::parse(a.jid);
    if (!j || a.affiliation == Affiliation::none) continue;
    AffiliationRecord r = a;
    r.jid = j->bare_str();
    next[r.jid] = std::move(r);
  }
  std::vector<std::string> users;
  for (const auto& [jid, a] : room.affiliations)
    users.push_back(jid);
  for (const auto& [jid, a] : next)
    if (!room.affiliations.count(jid)) users.push_back(jid);
  for (const auto& jid : users) {
    auto n = next.find(jid);
    const Affiliation before = room.affiliation_of(jid);
    if (n == next.end()) {
      s.apply_affiliation(room, jid, std::nullopt, nullptr, {});
    } else if (before != n->second.affiliation) {
      s.apply_affiliation(room, jid, n->second, nullptr, {});
    } else {
      // Nick, email or marketplace role changed: nothing to announce, but plugins that keep
      // per-member state (the email plugin's address) hear of it.
      room.affiliations[jid].nick = n->second.nick;
      const auto view = s.room_view(room);
      s.fire(plugin::Hook::member_changed,
             [&](plugin::Plugin& pl) { pl.on_member_changed(view, jid, before); });
    }
  }
  s.maybe_unload(room);
}

}  // namespace salon::muc
