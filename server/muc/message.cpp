// SPDX-License-Identifier: GPL-3.0-or-later
// Messages: groupchat (XEP-0045 §7.4) through the plugin pipeline with holds kept in per-room
// FIFO order, subject changes (§8.1), private messages (§7.5), mediated invitations (§7.8.2),
// and ghost removal for bounced messages. XEP-0359 stanza-id and XEP-0421 occupant-id are
// stamped by the room; any copies a client sent are removed first.
#include "core/log.hpp"
#include "journal/journal.hpp"
#include "muc/ids.hpp"
#include "muc/impl.hpp"
#include "plugin/hold.hpp"

namespace salon::muc {

namespace {
constexpr std::string_view kLegacyDelay = "jabber:x:delay";  // XEP-0091, still honoured

// Removes <stanza-id by=room/> (spoofed), every client-supplied <occupant-id/> and, in
// groupchat, <delay/>: a client's stamp would be reflected, archived and shown in history as
// when the message was said (a backdated line in the transcript). The room's own stamp is
// added to history on join.
void strip_room_ids(Element& m, const Jid& room) {
  const bool groupchat = m.attr("type") == "groupchat";
  m.remove_children_if([&](const Element& c) {
    if (c.is("occupant-id", ns::occupant_id)) return true;
    if (groupchat && (c.is("delay", ns::delay) || c.is("x", kLegacyDelay))) return true;
    if (!c.is("stanza-id", ns::sid)) return false;
    const auto by = Jid::parse(c.attr("by"));
    return !by || *by == room;
  });
}

// A relayed <invite/> or <decline/> carries the reason's text, nothing of its markup.
void copy_reason(const Element& from, Element& to) {
  if (const Element* reason = from.child("reason")) to.add_child("reason").set_text(reason->text());
}
}  // namespace

void Service::Impl::room_message(Room& room, const Element& m, const Jid& from) {
  const std::string_view type = m.attr("type");
  if (type == "error") {
    ghost_check(room, m, from);
    return;
  }
  Occupant* o = room.occupant_by_real(from);
  if (type == "groupchat") {
    if (!o) return send_error(m, errors::not_acceptable("you are not in the room"));
    if (o->role == Role::visitor) return send_error(m, errors::forbidden("you have no voice"));
    if (auto err = check_message_limits(o->bucket, m)) return send_error(m, *err);
    if (m.child("subject") && !m.child("body")) return change_subject(room, *o, m);
    return groupchat(room, *o, m, from);
  }
  if (const Element* x = m.child("x", ns::muc_user)) {
    if (const Element* inv = x->child("invite"); inv && inv->has_attr("to"))
      return mediated_invite(room, m, from, *inv);
    if (const Element* dec = x->child("decline"); dec && dec->has_attr("to"))
      return mediated_decline(room, m, from, *dec);
    return send_error(m, errors::bad_request());
  }
  // Voice requests and other non-groupchat messages to the room are not offered.
  send_error(m, errors::service_unavailable());
}

std::optional<StanzaError> Service::Impl::check_message_limits(TokenBucket& bucket,
                                                               const Element& m) {
  const auto& lim = cfg.muc;
  if (m.xml().size() > lim.max_stanza_bytes) {
    refused("message_bytes");
    return errors::policy_violation("stanza larger than " + std::to_string(lim.max_stanza_bytes) +
                                    " bytes");
  }
  for (const Element* body : m.children_named("body"))
    if (utf8_length(body->text()) > lim.max_body_chars) {
      refused("body_chars");
      return errors::policy_violation("message longer than " + std::to_string(lim.max_body_chars) +
                                      " characters");
    }
  return take_token(bucket, lim.messages_per_second, lim.message_burst, "message_rate",
                    "too many messages: slow down");
}

std::optional<StanzaError> Service::Impl::take_token(TokenBucket& bucket, double rate, double burst,
                                                     std::string_view limit, std::string text) {
  if (bucket.take(rate, burst, std::chrono::steady_clock::now())) return std::nullopt;
  refused(limit);
  StanzaError e = errors::policy_violation(std::move(text));
  e.type = ErrorType::wait;  // retry later; the stanza was not delivered
  return e;
}

std::optional<StanzaError> Service::Impl::check_relay_limits(TokenBucket& bucket, const Element& m,
                                                             const Element& relayed) {
  if (utf8_length(relayed.child_text("reason")) > cfg.muc.max_body_chars) {
    refused("body_chars");
    return errors::policy_violation("reason longer than " + std::to_string(cfg.muc.max_body_chars) +
                                    " characters");
  }
  return check_message_limits(bucket, m);
}

void Service::Impl::change_subject(Room& room, Occupant& o, const Element& m) {
  const bool members_may =
      room.record.settings.members_can_change_subject && cfg.muc.members_can_change_subject;
  if (o.role != Role::moderator && !(members_may && o.role == Role::participant))
    return send_error(m, errors::forbidden("you may not change the subject"));
  room.record.subject = std::string(m.child_text("subject"));
  room.record.subject_nick = o.nick;
  // Live at once; stored in turn with other changes of the room, so that a configuration
  // change still being stored is not overwritten by this record's older copy.
  std::weak_ptr<int> life = alive;
  queue_write(room, [this, life](Room& r, WriteTurn turn) {
    store.save_room(r.record, [life, local = r.local, turn](StoreError err) {
      if (!life.expired() && err)
        log::error("muc", "saving subject of {} failed: {}", local, err.message);
    });
  });
  Element out = m;
  out.remove_attr("to");
  out.set_attr("from", room.occupant_jid(o.nick));
  strip_room_ids(out, room.jid);
  out.add_child("occupant-id", ns::occupant_id).set_attr("id", o.occupant_id);
  for (auto& [nick, occ] : room.occupants)
    for (const auto& s : occ.sessions)
      deliver(room, s.real, out);
  const auto view = room_view(room);
  const auto sender = occupant_view(room, o);
  const auto at = plugin::Clock::now();
  fire(plugin::Hook::subject_changed,
       [&](plugin::Plugin& pl) { pl.on_subject_changed(view, sender, out, at); });
}

void Service::Impl::groupchat(Room& room, Occupant& o, const Element& m, const Jid& from) {
  auto pm = std::make_shared<PendingMessage>();
  pm->original = m;
  pm->stanza = m;
  pm->stanza.remove_attr("to");
  pm->stanza.set_attr("from", room.occupant_jid(o.nick));
  strip_room_ids(pm->stanza, room.jid);
  // One clock reading for both: the stanza-id carries the time the archive stores, so a
  // marker's id says exactly which messages it covers (core/uuid.hpp, uuid7_time).
  pm->received_at = plugin::Clock::now();
  pm->stanza_id = uuid7(pm->received_at);
  pm->stanza.add_child("stanza-id", ns::sid)
      .set_attr("id", pm->stanza_id)
      .set_attr("by", room.jid.bare_str());
  pm->stanza.add_child("occupant-id", ns::occupant_id).set_attr("id", o.occupant_id);
  pm->sender = occupant_view(room, o);
  pm->sender_real = from;
  pm->started = std::chrono::steady_clock::now();

  std::weak_ptr<Room> weak = rooms.at(room.local);
  auto take_hold = [this, weak, pm]() {
    auto state = std::make_shared<plugin::BroadcastHold::State>();
    ++pm->holds_pending;
    state->settle = [this, life = std::weak_ptr<int>(alive), weak,
                     pm](std::optional<StanzaError> err) {
      if (!life.expired()) on_hold_settled(weak, pm, std::move(err));
    };
    return plugin::BroadcastHold(std::move(state));
  };
  const auto view = room_view(room);
  plugin::MessageEvent ev{view,          pm->sender,      from,     pm->stanza,
                          pm->stanza_id, pm->received_at, take_hold};
  if (auto refusal =
          fire_refusable(plugin::Hook::message_before_broadcast,
                         [&](plugin::Plugin& pl) { return pl.on_message_before_broadcast(ev); })) {
    pm->refused = true;
    return send_error(m, *refusal);
  }
  if (auto err = commit(ev, take_hold)) {
    pm->refused = true;
    return send_error(m, *err);
  }
  room.outbox.push_back(pm);
  pump(room);
}

// Every plugin accepted the message: their rows for it go to the journal together, and the
// broadcast waits for them under one hold (none when no plugin added a row).
std::optional<StanzaError> Service::Impl::commit(
    const plugin::MessageEvent& ev, const std::function<plugin::BroadcastHold()>& hold) {
  journal::Commit rows;
  if (auto err = fire_refusable(plugin::Hook::message_commit, [&](plugin::Plugin& pl) {
        pl.on_message_commit(ev, rows);
        return std::optional<StanzaError>();
      }))
    return err;
  if (rows.empty()) return std::nullopt;
  if (!journal_) return errors::internal_server_error("no durable storage configured");
  auto h = std::make_shared<plugin::BroadcastHold>(hold());
  journal_->submit(std::move(rows), [h](bool durable) {
    if (durable) return h->release();
    StanzaError e = errors::internal_server_error("the message could not be stored");
    e.type = ErrorType::wait;  // PostgreSQL may be back soon: the sender may resend
    h->fail(std::move(e));
  });
  return std::nullopt;
}

void Service::Impl::on_hold_settled(const std::weak_ptr<Room>& weak,
                                    const std::shared_ptr<PendingMessage>& pm,
                                    std::optional<StanzaError> err) {
  if (pm->holds_pending > 0) --pm->holds_pending;
  if (err && !pm->failed) pm->failed = std::move(err);
  if (pm->refused) return;
  if (auto room = weak.lock(); room && !room->destroyed) pump(*room);
}

void Service::Impl::pump(Room& room) {
  if (room.pumping) return;  // a hook released a hold while we broadcast: the loop continues
  room.pumping = true;
  while (!room.outbox.empty()) {
    std::shared_ptr<PendingMessage> head = room.outbox.front();
    if (head->holds_pending > 0 && !head->failed) break;
    room.outbox.pop_front();
    if (head->failed) {
      // The sender learns its message was not delivered (never dropped silently).
      Element err = make_error_reply(head->original, *head->failed);
      send(std::move(err));
      continue;
    }
    broadcast(room, *head);
  }
  room.pumping = false;
  maybe_unload(room);
}

void Service::Impl::broadcast(Room& room, PendingMessage& pm) {
  // Serialised once; each recipient gets the same text with its own 'to' spliced in (a copy,
  // an attribute and a serialisation per recipient were ~15% of a message's CPU).
  const std::string xml = pm.stanza.xml();  // no 'to' yet
  constexpr std::string_view kOpen = "<message";
  const bool splice = xml.starts_with(kOpen);
  for (auto& [nick, o] : room.occupants) {
    for (auto& s : o.sessions) {
      if (s.joining || !splice) {  // held for the join order, or not a plain <message …>
        deliver(room, s.real, pm.stanza);
        continue;
      }
      std::string out;
      out.reserve(xml.size() + s.real.str().size() + 8);
      out.append(kOpen).append(" to='");
      append_xml_escaped(out, s.real.str());
      out += '\'';
      out.append(xml, kOpen.size());
      sink_->send_serialised(std::move(out), "message");
    }
  }
  messages_total.inc();
  broadcast_duration.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - pm.started).count());
  const auto view = room_view(room);
  const plugin::MessageEvent ev{
      view, pm.sender, pm.sender_real, pm.stanza, pm.stanza_id, pm.received_at, [] {
        return plugin::BroadcastHold(nullptr);
      }};
  fire(plugin::Hook::message_after_broadcast,
       [&](plugin::Plugin& pl) { pl.on_message_after_broadcast(ev); });
}

void Service::Impl::occupant_message(Room& room, const Element& m, const Jid& from,
                                     const std::string& nick) {
  const std::string_view type = m.attr("type");
  if (type == "error") {
    ghost_check(room, m, from);
    return;
  }
  Occupant* sender = room.occupant_by_real(from);
  if (!sender) return send_error(m, errors::not_acceptable("you are not in the room"));
  if (type == "groupchat")
    return send_error(m, errors::bad_request("groupchat messages go to the room"));
  if (!room.record.settings.allow_private_messages || !cfg.muc.allow_private_messages)
    return send_error(m, errors::not_allowed("private messages are disabled in this room"));
  if (auto err = check_message_limits(sender->bucket, m)) return send_error(m, *err);
  Occupant* target = room.occupant_by_nick(nick);
  if (!target) return send_error(m, errors::item_not_found("no such occupant"));
  Element out = m;
  out.set_attr("from", room.occupant_jid(sender->nick));
  strip_room_ids(out, room.jid);
  if (!out.child("x", ns::muc_user)) out.add_child("x", ns::muc_user);
  out.add_child("occupant-id", ns::occupant_id).set_attr("id", sender->occupant_id);
  for (const auto& s : target->sessions)
    deliver(room, s.real, out);
}

void Service::Impl::mediated_invite(Room& room, const Element& m, const Jid& from,
                                    const Element& invite) {
  Occupant* o = room.occupant_by_real(from);
  if (!o || o->role == Role::visitor) return send_error(m, errors::not_acceptable());
  const auto invitee = Jid::parse(invite.attr("to"));
  if (!invitee) return send_error(m, errors::jid_malformed());
  // The room is members-only and invitations never grant membership (§9.5): members may
  // invite project members; admins and owners may invite anyone (membership is separate).
  if (rank(room.affiliation_of(from)) < rank(Affiliation::admin) &&
      rank(room.affiliation_of(invitee->bare())) < rank(Affiliation::member))
    return send_error(m, errors::forbidden("only project members can be invited"));
  // Each invitation is a message from room@ to someone else: as rate-limited as any message.
  if (auto err = check_relay_limits(o->bucket, m, invite)) return send_error(m, *err);
  Element out("message");
  out.set_attr("from", room.jid.bare_str());
  out.set_attr("to", invitee->str());
  if (m.has_attr("id")) out.set_attr("id", std::string(m.attr("id")));
  Element& x = out.add_child("x", ns::muc_user);
  Element& inv = x.add_child("invite");
  inv.set_attr("from", from.bare_str());
  copy_reason(invite, inv);
  send(std::move(out));
}

void Service::Impl::mediated_decline(Room& room, const Element& m, const Jid& from,
                                     const Element& decline) {
  // §7.8.2: an invitee declines through the room, which tells the inviter. Only someone the
  // room could have invited may, a member (the room is members-only and an invitation grants
  // no membership), and only to a member, as the inviter is: otherwise anyone could make
  // room@ send messages to any JID.
  Occupant* o = room.occupant_by_real(from);
  if (!o && rank(room.affiliation_of(from)) < rank(Affiliation::member))
    return send_error(m, errors::forbidden("only project members may decline an invitation"));
  const auto to = Jid::parse(decline.attr("to"));
  if (!to) return send_error(m, errors::jid_malformed());
  if (rank(room.affiliation_of(to->bare())) < rank(Affiliation::member))
    return send_error(m, errors::not_acceptable("a decline goes to the member who invited you"));
  TokenBucket& bucket = o ? o->bucket : room.user_limits[from.bare_str()].messages;
  if (auto err = check_relay_limits(bucket, m, decline)) return send_error(m, *err);
  // Only what §7.8.2 shows: the room, the inviter, the decliner's bare JID and the reason.
  Element out("message");
  out.set_attr("from", room.jid.bare_str());
  out.set_attr("to", to->str());
  if (m.has_attr("id")) out.set_attr("id", std::string(m.attr("id")));
  Element& x = out.add_child("x", ns::muc_user);
  Element& dec = x.add_child("decline");
  dec.set_attr("from", from.bare_str());
  copy_reason(decline, dec);
  send(std::move(out));
}

}  // namespace salon::muc
