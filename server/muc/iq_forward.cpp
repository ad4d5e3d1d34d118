// SPDX-License-Identifier: GPL-3.0-or-later
// IQs to an occupant JID (XEP-0045 §7.8-style private IQs, e.g. Converse's vCard requests for
// avatars): forwarded to one real resource of the target with a fresh id; the reply is routed
// back to the requester from the target's occupant JID. A timeout answers the requester with
// an error, so no IQ is left unanswered. XEP-0410 self-pings are answered by the room.
#include "core/log.hpp"
#include "muc/ids.hpp"
#include "muc/impl.hpp"

namespace salon::muc {

namespace {

// Rebuilds a stanza error from an <error/> element (to answer through the IqResponder).
StanzaError to_stanza_error(const Element* e) {
  StanzaError err = errors::service_unavailable();
  if (!e) return err;
  const std::string_view t = e->attr("type");
  if (t == "cancel")
    err.type = ErrorType::cancel;
  else if (t == "continue")
    err.type = ErrorType::continue_;
  else if (t == "modify")
    err.type = ErrorType::modify;
  else if (t == "auth")
    err.type = ErrorType::auth;
  else if (t == "wait")
    err.type = ErrorType::wait;
  err.by = std::string(e->attr("by"));
  for (const auto& c : e->children()) {
    if (c.xmlns() == ns::stanzas) {
      if (c.name() == "text")
        err.text = c.text();
      else
        err.condition = c.name();
    } else if (err.app_condition.name().empty()) {
      err.app_condition = c;
    }
  }
  return err;
}
}  // namespace

void Service::Impl::occupant_iq(Room& room, const Element& iq, const Jid& from,
                                const std::string& nick) {
  MucIq ctx{&room, from, nick};
  iq_router.dispatch(iq, IqTarget::occupant, ctx, responder(iq));
}

// Every IQ to an occupant (the router's fallback for IqTarget::occupant): pings answered by
// the room, the rest forwarded to the occupant's resource.
void Service::Impl::forward_iq(const MucIqRequest& r, IqResponder reply) {
  Room& room = *r.context.room;
  const Jid& from = r.context.from;
  const std::string nick(r.context.nick);
  const Element& iq = r.iq;
  const Element& q = *r.payload;
  const bool get = iq.attr("type") == "get";
  const bool ping = get && q.is("ping", ns::ping);
  Occupant* sender = room.occupant_by_real(from);
  if (!sender) {
    if (ping) {
      // XEP-0410 §3.3: "you are not joined", from the room.
      StanzaError e = errors::not_acceptable();
      e.by = room.jid.bare_str();
      return reply.error(e);
    }
    return reply.error(errors::bad_request("you are not in the room"));  // XEP-0045 §6.6
  }
  Occupant* target = room.occupant_by_nick(nick);
  if (!target) return reply.error(errors::item_not_found("no such occupant"));
  if (ping && target == sender) return reply.result();  // self-ping: this resource is joined

  // Each forward waits (up to the timeout) for an answer that may never come: bounded per
  // requester and per room, or a client could make the pending map grow without end.
  std::string room_key = room.local;
  std::string user_key = room.local + '/' + sender->bare.bare_str();  // a local has no '/'
  auto pending = [this](const std::string& key) {
    auto it = forward_counts.find(key);
    return it == forward_counts.end() ? std::size_t{0} : it->second;
  };
  if (pending(user_key) >= cfg.muc.max_forwarded_iqs_per_occupant) {
    refused("forwarded_iqs_occupant");
    return reply.error(errors::resource_constraint(
        "too many of your IQs are waiting for an occupant's answer: retry later"));
  }
  if (pending(room_key) >= cfg.muc.max_forwarded_iqs_per_room) {
    refused("forwarded_iqs_room");
    return reply.error(
        errors::resource_constraint("too many IQs in this room are waiting for an answer"));
  }

  // vCard requests go to the user's account (its server answers), as Prosody does.
  const bool vcard = get && q.is("vCard", "vcard-temp");
  const Jid dest = vcard ? target->bare : target->primary().real;
  const std::string id = uuid4();
  Element out = iq;
  out.set_attr("id", id);
  out.set_attr("from", room.occupant_jid(sender->nick));
  out.set_attr("to", dest.str());

  ForwardedIq f;
  f.reply = std::make_unique<IqResponder>(std::move(reply));
  f.target_real = dest;
  f.timer = std::make_unique<boost::asio::steady_timer>(io, iq_forward_timeout);
  std::weak_ptr<int> life = alive;
  f.timer->async_wait([this, life, id](const boost::system::error_code& ec) {
    if (ec || life.expired()) return;
    auto it = forwards.find(id);
    if (it == forwards.end()) return;
    it->second.reply->error(
        StanzaError::make(ErrorType::wait, "remote-server-timeout", "the occupant did not answer"));
    forwards_expired.inc();
    end_forward(it);
  });
  ++forward_counts[room_key];
  ++forward_counts[user_key];
  f.room_key = std::move(room_key);
  f.user_key = std::move(user_key);
  forwards.emplace(id, std::move(f));
  send(std::move(out));
}

void Service::Impl::forwarded_reply(const Element& iq, const Jid& from) {
  auto it = forwards.find(std::string(iq.attr("id")));
  if (it == forwards.end()) return;
  ForwardedIq& f = it->second;
  // Only the entity we asked may answer (or its server, for the bare JID we asked).
  if (!(from == f.target_real || (f.target_real.is_bare() && from.bare() == f.target_real))) return;
  if (iq.attr("type") == "result") {
    f.reply->result(iq.children().empty() ? Element() : iq.children().front());
  } else {
    f.reply->error(to_stanza_error(iq.child("error")));
  }
  end_forward(it);
}

void Service::Impl::end_forward(std::unordered_map<std::string, ForwardedIq>::iterator it) {
  for (const std::string* key : {&it->second.room_key, &it->second.user_key}) {
    auto c = forward_counts.find(*key);
    if (c != forward_counts.end() && --c->second == 0) forward_counts.erase(c);
  }
  forwards.erase(it);  // the timer's destructor cancels it
}

}  // namespace salon::muc
