// SPDX-License-Identifier: GPL-3.0-or-later
// Occupant presence: building the presences the room sends (XEP-0045 §7.2.2 items, status
// codes, XEP-0421 occupant-id), presence updates, nick changes (§7.6), leaving (§7.14),
// removals (kick, ban, membership revoked, destroy) and ghost removal (§18.1: a resource the
// server bounces stanzas for is gone).
#include <algorithm>

#include "core/log.hpp"
#include "muc/impl.hpp"

namespace salon::muc {

namespace {
// Bounce conditions that mean "this resource is not there" (Prosody's kickable errors, less
// the ones a live client may legitimately return).
bool is_kickable(std::string_view condition) {
  static constexpr std::string_view kConditions[] = {
      "",  // an error without a defined condition: malformed, treat as a bounce
      "gone",
      "item-not-found",
      "recipient-unavailable",
      "redirect",
      "remote-server-not-found",
      "remote-server-timeout",
      "service-unavailable"};
  return std::find(std::begin(kConditions), std::end(kConditions), condition) !=
         std::end(kConditions);
}
}  // namespace

namespace {
// What of a client's presence the room passes on (and keeps): not the MUC elements, which
// the room writes itself.
bool room_written(const Element& c) {
  return c.is("x", ns::muc) || c.is("x", ns::muc_user) || c.name() == "occupant-id" ||
         c.name() == "error";
}

std::size_t payload_bytes(const Element& presence) {
  std::size_t n = 0;
  for (const auto& c : presence.children())
    if (!room_written(c)) n += c.xml().size();
  return n;
}
}  // namespace

Element Service::Impl::client_payload(const Element& presence) {
  Element out("presence");
  for (const auto& c : presence.children()) {
    if (room_written(c)) continue;
    out.add_child(c);
  }
  return out;
}

std::optional<StanzaError> Service::Impl::check_presence_limits(Room& room, const Element& p,
                                                                const Jid& from) {
  const auto& lim = cfg.muc;
  if (payload_bytes(p) > lim.max_presence_bytes) {
    refused("presence_bytes");
    return errors::policy_violation("presence payload larger than " +
                                    std::to_string(lim.max_presence_bytes) + " bytes");
  }
  return take_token(room.user_limits[from.bare_str()].presence, lim.presences_per_second,
                    lim.presence_burst, "presence_rate", "too many presence updates: slow down");
}

Element Service::Impl::build_presence(const Room& room, const Occupant& o, const Element& payload,
                                      bool unavailable, Role role, const Jid& item_jid,
                                      const MucX& x, bool self) const {
  Element p("presence");
  p.set_attr("from", room.occupant_jid(o.nick));
  if (unavailable) p.set_attr("type", "unavailable");
  for (const auto& c : payload.children())
    p.add_child(c);
  Element& mx = p.add_child("x", ns::muc_user);
  Element& item = mx.add_child("item");
  item.set_attr("affiliation",
                std::string(to_string(x.affiliation.value_or(room.affiliation_of(o.bare)))));
  item.set_attr("role", std::string(to_string(role)));
  // Non-anonymous room (XEP-0045 §7.2.3): everyone sees real JIDs.
  item.set_attr("jid", item_jid.str());
  if (!x.new_nick.empty()) item.set_attr("nick", x.new_nick);
  if (!x.actor_nick.empty() || !x.actor_jid.empty()) {
    Element& actor = item.add_child("actor");
    if (!x.actor_nick.empty()) actor.set_attr("nick", x.actor_nick);
    if (!x.actor_jid.empty()) actor.set_attr("jid", x.actor_jid);
  }
  if (!x.reason.empty()) item.add_child("reason").set_text(x.reason);
  if (x.destroy) mx.add_child(*x.destroy);
  std::vector<int> codes = x.codes;
  if (self) add_code(codes, 110);
  for (int c : codes)
    mx.add_child("status").set_attr("code", std::to_string(c));
  p.add_child("occupant-id", ns::occupant_id).set_attr("id", o.occupant_id);
  return p;
}

void Service::Impl::deliver(Room& room, const Jid& to, Element stanza) {
  stanza.set_attr("to", to.str());
  if (Occupant* o = room.occupant_by_real(to)) {
    if (Session* s = o->session(to); s && s->joining) {
      s->held.push_back(std::move(stanza));
      return;
    }
  }
  send(std::move(stanza));
}

void Service::Impl::publicise(Room& room, Occupant& o, const MucX& x, const Jid* joining,
                              const std::vector<int>& join_codes) {
  const Session& primary = o.primary();
  const Element others =
      build_presence(room, o, primary.presence, false, o.role, primary.real, x, false);
  for (auto& [nick, other] : room.occupants) {
    if (&other == &o) continue;
    for (const auto& s : other.sessions)
      deliver(room, s.real, others);
  }
  for (const auto& s : o.sessions) {
    MucX sx = x;
    if (joining && s.real == *joining)
      for (int c : join_codes)
        add_code(sx.codes, c);
    deliver(room, s.real,
            build_presence(room, o, primary.presence, false, o.role, s.real, sx, true));
  }
  o.last_broadcast = primary.presence.xml();
}

void Service::Impl::presence_update(Room& room, Occupant& o, const Element& p, const Jid& from) {
  Session* s = o.session(from);
  if (!s) return;
  s->presence = client_payload(p);
  s->updated = ++session_seq;
  publicise(room, o, MucX{});
  const auto view = room_view(room);
  const auto ov = occupant_view(room, o);
  fire(plugin::Hook::presence_changed,
       [&](plugin::Plugin& pl) { pl.on_presence_changed(view, ov, p); });
  mark_dirty(room);
}

void Service::Impl::change_nick(Room& room, Occupant& o, const Element& p, const Jid& from,
                                const std::string& new_nick) {
  if (Session* s = o.session(from)) {
    s->presence = client_payload(p);
    s->updated = ++session_seq;
  }
  const std::string old_nick = o.nick;
  // §7.6: unavailable from the old nick with the new one and 303, to everyone...
  MucX x;
  x.codes = {303};
  x.new_nick = new_nick;
  const Element empty("presence");
  const Element others = build_presence(room, o, empty, true, o.role, o.primary().real, x, false);
  for (auto& [nick, other] : room.occupants) {
    if (&other == &o) continue;
    for (const auto& s : other.sessions)
      deliver(room, s.real, others);
  }
  for (const auto& s : o.sessions)
    deliver(room, s.real, build_presence(room, o, empty, true, o.role, s.real, x, true));
  // ...then the occupant under its new nick.
  auto node = room.occupants.extract(old_nick);
  node.key() = new_nick;
  node.mapped().nick = new_nick;
  auto it = room.occupants.insert(std::move(node)).position;
  for (const auto& s : it->second.sessions)
    room.nick_of[s.real] = new_nick;
  publicise(room, it->second, MucX{});
  mark_dirty(room);
}

void Service::Impl::leave(Room& room, Occupant& o, const Element& p, const Jid& from) {
  // Leaving always works (and is not rate-limited); an oversized goodbye loses its payload.
  const bool fits = payload_bytes(p) <= cfg.muc.max_presence_bytes;
  remove_session(room, o.nick, from, MucX{}, fits ? client_payload(p) : Element("presence"), true);
}

void Service::Impl::remove_session(Room& room, const std::string& nick, const Jid& real, MucX x,
                                   const Element& payload, bool self_notice) {
  Occupant* o = room.occupant_by_nick(nick);
  if (!o || !o->session(real)) return;
  if (o->sessions.size() == 1) {
    remove_occupant(room, nick, std::move(x), payload, self_notice ? nullptr : &real);
    return;
  }
  // Multi-session: only this resource leaves; the others keep the occupant in the room.
  const std::string before = o->last_broadcast;
  std::erase_if(o->sessions, [&](const Session& s) { return s.real == real; });
  room.nick_of.erase(real);
  if (self_notice)
    send([&] {
      Element e = build_presence(room, *o, payload, true, Role::none, real, x, true);
      e.set_attr("to", real.str());
      return e;
    }());
  if (o->primary().presence.xml() != before) publicise(room, *o, MucX{});
  mark_dirty(room);
}

void Service::Impl::remove_occupant(Room& room, const std::string& nick, MucX x,
                                    const Element& payload, const Jid* no_notice) {
  auto node = room.occupants.extract(nick);
  if (!node) return;
  Occupant& o = node.mapped();
  for (const auto& s : o.sessions)
    room.nick_of.erase(s.real);
  occupants_changed(-1);

  const Element others =
      build_presence(room, o, payload, true, Role::none, o.primary().real, x, false);
  for (auto& [n, other] : room.occupants)
    for (const auto& s : other.sessions)
      deliver(room, s.real, others);
  for (const auto& s : o.sessions) {
    if (no_notice && s.real == *no_notice) continue;
    Element self = build_presence(room, o, payload, true, Role::none, s.real, x, true);
    self.set_attr("to", s.real.str());
    send(std::move(self));
  }
  o.role = Role::none;
  const auto view = room_view(room);
  const auto ov = occupant_view(room, o);
  fire(plugin::Hook::occupant_left, [&](plugin::Plugin& pl) { pl.on_occupant_left(view, ov); });
  mark_dirty(room);
}

bool Service::Impl::ghost_check(Room& room, const Element& error_stanza, const Jid& from) {
  Occupant* o = room.occupant_by_real(from);
  if (!o) return false;
  const std::string_view condition = error_condition(error_stanza);
  if (!is_kickable(condition)) return false;
  log::info("muc", "{}: removing {} ({}) after a bounce: {}", room.jid.bare_str(), from.str(),
            o->nick, condition.empty() ? "malformed error" : condition);
  MucX x;
  x.codes = {333};  // XEP-0045: removed because of a technical problem
  remove_session(room, o->nick, from, std::move(x), Element("presence"), false);
  return true;
}

}  // namespace salon::muc
