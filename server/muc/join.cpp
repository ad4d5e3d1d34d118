// SPDX-License-Identifier: GPL-3.0-or-later
// Entering a room (XEP-0045 §7.2) and the presence dispatch inside a room. The join sends, in
// the XEP's order: existing occupants' presences, the new occupant's presence (self-presence
// with 110, 100 for a non-anonymous room, 170 when logged, 210 when the service changed the
// nick), history from the history provider, then the subject (always, empty when none).
#include <chrono>

#include "core/log.hpp"
#include "core/stamp.hpp"
#include "muc/impl.hpp"

namespace salon::muc {

namespace {

// history `since` (XEP-0045 §7.2.15) through the one XEP-0082 parser: a malformed or
// out-of-range date is no limit, never a date that mktime-style normalisation made up.
std::optional<plugin::Clock::time_point> parse_since(std::string_view s) {
  const auto us = parse_stamp(s);
  if (!us) return std::nullopt;
  return plugin::Clock::time_point(std::chrono::microseconds(*us));
}

std::string format_now() {
  const auto now = plugin::Clock::now().time_since_epoch();
  return format_stamp(std::chrono::duration_cast<std::chrono::microseconds>(now).count());
}

std::optional<std::size_t> parse_count(std::string_view s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  std::size_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::size_t>(c - '0');
  }
  return v;
}

plugin::HistoryRequest history_request(const Element& join) {
  plugin::HistoryRequest req;
  const Element* x = join.child("x", ns::muc);
  const Element* h = x ? x->child("history") : nullptr;
  if (!h) return req;
  req.max_stanzas = parse_count(h->attr("maxstanzas"));
  req.max_chars = parse_count(h->attr("maxchars"));
  if (auto secs = parse_count(h->attr("seconds"))) req.seconds = std::chrono::seconds(*secs);
  if (h->has_attr("since")) req.since = parse_since(h->attr("since"));
  return req;
}

std::string_view raw_resource(std::string_view jid) {
  const auto slash = jid.find('/');
  return slash == std::string_view::npos ? std::string_view() : jid.substr(slash + 1);
}
}  // namespace

void Service::Impl::room_presence(Room& room, const Element& p, const Jid& from, const Jid& to) {
  const std::string_view type = p.attr("type");
  if (type == "error") {
    ghost_check(room, p, from);
    return;
  }
  Occupant* o = room.occupant_by_real(from);
  if (to.is_bare()) {
    // Some clients send presence updates to the room itself; a join needs a nick (§7.2.1).
    if (o && type.empty()) {
      if (auto err = check_presence_limits(room, p, from)) return send_error(p, *err);
      presence_update(room, *o, p, from);
    } else if (o && type == "unavailable") {
      leave(room, *o, p, from);
    } else if (type.empty()) {
      send_error(p, errors::jid_malformed("a nickname is required"));
    }
    return;
  }
  if (type == "unavailable") {
    if (o) leave(room, *o, p, from);
    return;
  }
  if (!type.empty()) return;  // probes and subscription requests mean nothing to a room
  const std::string& nick = to.resource();
  if (!o) return join(room, p, from, to);
  // Each of these fans out to every occupant (a rejoin also costs a history query).
  if (auto err = check_presence_limits(room, p, from)) return send_error(p, *err);
  if (o->nick == nick) {
    // A join presence from a resource that is already in: its client lost the room state
    // (e.g. its server restarted), so it gets the whole join sequence again.
    if (p.child("x", ns::muc)) return rejoin(room, *o, p, from);
    return presence_update(room, *o, p, from);
  }
  // §7.6 nick change: the new nick must be free (also of this user's other occupants).
  if (auto err = check_nick(room, nick, o->bare)) {
    return send_error(p, *err);
  }
  if (room.occupant_by_nick(nick)) return send_error(p, errors::conflict("nickname in use"));
  change_nick(room, *o, p, from, nick);
}

std::optional<StanzaError> Service::Impl::check_nick(const Room& room, const std::string& nick,
                                                     const Jid& bare) const {
  if (utf8_length(nick) > cfg.muc.max_nick_chars)
    return errors::not_acceptable("nickname longer than " + std::to_string(cfg.muc.max_nick_chars) +
                                  " characters");
  if (auto it = room.occupants.find(nick); it != room.occupants.end() && it->second.bare != bare)
    return errors::conflict("nickname in use");
  const std::string me = bare.bare_str();
  for (const auto& [jid, a] : room.affiliations) {
    if (jid == me || a.nick.empty() || a.affiliation == Affiliation::outcast) continue;
    if (Jid::resourceprep(a.nick) == nick) return errors::conflict("nickname reserved");
  }
  return std::nullopt;
}

void Service::Impl::join(Room& room, const Element& p, const Jid& from, const Jid& to) {
  const auto started = std::chrono::steady_clock::now();
  const std::string& nick = to.resource();
  const Affiliation aff = room.affiliation_of(from);
  if (aff == Affiliation::outcast) return send_error(p, errors::forbidden("you are banned"));
  if (rank(aff) < rank(Affiliation::member))
    return send_error(p, errors::registration_required("this room is for project members"));
  // Joins take a presence token too: leaving and joining again is no way around the rate.
  if (auto err = check_presence_limits(room, p, from)) return send_error(p, *err);

  std::vector<int> codes = join_codes(room, p, nick);

  // Multi-session nick: another resource of the same user already holds this nick.
  if (Occupant* same = room.occupant_by_nick(nick); same && same->bare == from.bare())
    return join_session(room, *same, p, from, std::move(codes), started, false);

  if (auto err = check_nick(room, nick, from.bare())) return send_error(p, *err);
  // §7.2.9: admins and owners may still enter a full room, up to a margin.
  const std::size_t max = cfg.muc.max_occupants;
  const std::size_t count = room.occupants.size();
  if (count >= max &&
      (rank(aff) < rank(Affiliation::admin) || count >= max + std::max<std::size_t>(10, max / 10)))
    return send_error(p, errors::service_unavailable("the room is full"));

  const auto view = room_view(room);
  const plugin::PreJoin pre{view, from, nick, aff, p};
  if (auto refusal = fire_refusable(plugin::Hook::occupant_pre_join, [&](plugin::Plugin& pl) {
        return pl.on_occupant_pre_join(pre);
      }))
    return send_error(p, *refusal);

  Occupant o;
  o.nick = nick;
  o.bare = from.bare();
  o.role = default_role(aff);
  o.occupant_id = make_occupant_id(room, o.bare);
  auto it = room.occupants.emplace(nick, std::move(o)).first;
  occupants_changed(+1);
  join_session(room, it->second, p, from, std::move(codes), started, true);
}

std::vector<int> Service::Impl::join_codes(const Room& room, const Element& p,
                                           const std::string& nick) const {
  (void)room;
  std::vector<int> codes{100};             // non-anonymous
  if (room_logging) add_code(codes, 170);  // a plugin declared the rooms logged (the archive)
  if (raw_resource(p.attr("to")) != nick) add_code(codes, 210);  // resourceprep changed it
  return codes;
}

void Service::Impl::rejoin(Room& room, Occupant& o, const Element& p, const Jid& from) {
  const auto started = std::chrono::steady_clock::now();
  Session* s = o.session(from);
  if (!s) return;
  s->presence = client_payload(p);
  s->updated = ++session_seq;
  send_join_sequence(room, o, p, from, join_codes(room, p, o.nick), started, false);
}

void Service::Impl::join_session(Room& room, Occupant& o, const Element& p, const Jid& from,
                                 std::vector<int> codes,
                                 std::chrono::steady_clock::time_point started, bool new_occupant) {
  Session s;
  s.real = from;
  s.presence = client_payload(p);
  s.updated = ++session_seq;
  o.sessions.push_back(std::move(s));
  room.nick_of[from] = o.nick;
  send_join_sequence(room, o, p, from, std::move(codes), started, new_occupant);
}

void Service::Impl::send_join_sequence(Room& room, Occupant& o, const Element& p, const Jid& from,
                                       std::vector<int> codes,
                                       std::chrono::steady_clock::time_point started,
                                       bool new_occupant) {
  // 1. Everyone else's presence to the new resource.
  for (auto& [nick, other] : room.occupants) {
    if (&other == &o || other.sessions.empty()) continue;
    const Session& pr = other.primary();
    Element e = build_presence(room, other, pr.presence, false, other.role, pr.real, {}, false);
    e.set_attr("to", from.str());
    send(std::move(e));
  }
  // 2. The occupant's own presence: to everyone when it is new or its presence changed,
  // else only the self-presence to the new resource (another session of a present user).
  if (new_occupant || o.last_broadcast != o.primary().presence.xml()) {
    publicise(room, o, MucX{}, &from, codes);
  } else {
    MucX x;
    x.codes = codes;
    Element e = build_presence(room, o, o.primary().presence, false, o.role, from, x, true);
    e.set_attr("to", from.str());
    send(std::move(e));
  }
  if (new_occupant) {
    joins_total.inc();
    const auto view = room_view(room);
    const auto ov = occupant_view(room, o);
    fire(plugin::Hook::occupant_joined,
         [&](plugin::Plugin& pl) { pl.on_occupant_joined(view, ov); });
  }
  mark_dirty(room);
  // 3. and 4.: history, then the subject.
  send_history_then_subject(room, o.nick, from, p, started);
}

void Service::Impl::send_history_then_subject(Room& room, const std::string& nick, const Jid& real,
                                              const Element& join_presence,
                                              std::chrono::steady_clock::time_point started) {
  const auto req = history_request(join_presence);
  auto done_joining = [this, started](Room& r, const Jid& to) {
    send_subject(r, to);
    join_duration.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  };
  if (!history || (req.max_stanzas && *req.max_stanzas == 0) ||
      (req.max_chars && *req.max_chars == 0)) {
    done_joining(room, real);
    return;
  }
  Occupant* o = room.occupant_by_nick(nick);
  Session* s = o ? o->session(real) : nullptr;
  if (!s) return;
  s->joining = true;  // live traffic for this resource waits until the subject is sent
  std::weak_ptr<Room> weak;
  if (auto it = rooms.find(room.local); it != rooms.end()) weak = it->second;
  std::weak_ptr<int> life = alive;
  const auto view = room_view(room);
  auto done = [this, life, weak, real, done_joining](std::vector<Element> messages) {
    if (life.expired()) return;
    auto r = weak.lock();
    if (!r || !r->occupant_by_real(real)) return;  // left (or the room went) meanwhile
    for (auto& m : messages) {
      m.set_attr("to", real.str());
      if (!m.child("delay", ns::delay)) {
        // The provider gave no timestamp; "now" at least marks it as history.
        Element& d = m.add_child("delay", ns::delay);
        d.set_attr("stamp", format_now());
        d.set_attr("from", r->jid.bare_str());
      }
      send(std::move(m));
    }
    done_joining(*r, real);
    finish_joining(*r, r->occupant_by_real(real)->nick, real);
  };
  try {
    history(view, real, req, std::move(done));
  } catch (const std::exception& e) {
    log::error("muc", "history provider threw: {}", e.what());
    if (Occupant* again = room.occupant_by_real(real)) {
      done_joining(room, real);
      finish_joining(room, again->nick, real);
    }
  }
}

void Service::Impl::send_subject(Room& room, const Jid& to) {
  // §7.2.15: the subject is always sent, empty when there is none; it ends the join.
  Element m("message");
  m.set_attr("type", "groupchat");
  m.set_attr("from", room.record.subject_nick.empty()
                         ? room.jid.bare_str()
                         : room.occupant_jid(room.record.subject_nick));
  m.set_attr("to", to.str());
  m.add_child("subject").set_text(room.record.subject);
  send(std::move(m));
}

void Service::Impl::finish_joining(Room& room, const std::string& nick, const Jid& real) {
  Occupant* o = room.occupant_by_nick(nick);
  Session* s = o ? o->session(real) : nullptr;
  if (!s || !s->joining) return;
  s->joining = false;
  std::vector<Element> held = std::move(s->held);
  for (auto& e : held)
    send(std::move(e));
}

}  // namespace salon::muc
