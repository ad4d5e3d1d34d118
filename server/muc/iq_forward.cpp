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
  IqResponder reply = responder(iq);
  if (iq.children().size() != 1)
    return reply.error(errors::bad_request("an IQ get/set must contain exactly one payload"));
  const Element& q = iq.children().front();
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
    forwards.erase(it);
  });
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
  forwards.erase(it);  // the timer's destructor cancels it
}

}  // namespace salon::muc
