// SPDX-License-Identifier: GPL-3.0-or-later
// The core's IQs, in the same router as the plugins' (Host::on_room_iq / on_service_iq): one
// place answers a bad payload, a missing handler or a throw, exactly once.
#include "muc/impl.hpp"

namespace salon::muc {
namespace {

// The core's handlers are for <query/> payloads (or <ping/>); another element in the same
// namespace is not offered.
bool is_query(const MucIqRequest& r) {
  return r.payload->name() == "query";
}

}  // namespace

void Service::Impl::route_core_iqs() {
  using T = IqTarget;
  auto& r = iq_router;
  r.on(T::service, "get", ns::disco_info, [this](const MucIqRequest& q, IqResponder reply) {
    if (!is_query(q)) return reply.error(errors::service_unavailable());
    service_disco_info(*q.payload, std::move(reply));
  });
  r.on(T::service, "get", ns::disco_items, [this](const MucIqRequest& q, IqResponder reply) {
    if (!is_query(q)) return reply.error(errors::service_unavailable());
    service_disco_items(*q.payload, q.context.from, std::move(reply));
  });
  r.on(T::service, "get", ns::ping, [](const MucIqRequest& q, IqResponder reply) {
    if (q.payload->name() != "ping") return reply.error(errors::service_unavailable());
    reply.result();
  });
  r.on(T::room, "get", ns::disco_info, [this](const MucIqRequest& q, IqResponder reply) {
    if (!is_query(q)) return reply.error(errors::service_unavailable());
    disco_info(*q.context.room, q.iq, *q.payload, q.context.from, std::move(reply));
  });
  r.on(T::room, "get", ns::disco_items, [](const MucIqRequest& q, IqResponder reply) {
    if (!is_query(q)) return reply.error(errors::service_unavailable());
    reply.result(Element("query", ns::disco_items));  // occupants are not listed
  });
  r.on(T::room, "get", ns::register_, [this](const MucIqRequest& q, IqResponder reply) {
    if (!is_query(q)) return reply.error(errors::service_unavailable());
    register_get(*q.context.room, q.context.from, std::move(reply));
  });
  r.on(T::room, "set", ns::register_, [](const MucIqRequest& q, IqResponder reply) {
    if (!is_query(q)) return reply.error(errors::service_unavailable());
    reply.error(errors::not_allowed("nicknames are managed by the project"));
  });
  r.on(T::room, "get", ns::muc_admin, [this](const MucIqRequest& q, IqResponder reply) {
    if (!is_query(q)) return reply.error(errors::service_unavailable());
    admin_get(*q.context.room, *q.payload, q.context.from, std::move(reply));
  });
  r.on(T::room, "set", ns::muc_admin, [this](const MucIqRequest& q, IqResponder reply) {
    if (!is_query(q)) return reply.error(errors::service_unavailable());
    queue_write(*q.context.room,
                [this, p = Element(*q.payload), from = q.context.from,
                 r = std::make_shared<IqResponder>(std::move(reply))](Room& room, WriteTurn turn) {
                  admin_set(room, p, from, std::move(*r), std::move(turn));
                });
  });
  r.on(T::room, "get", ns::muc_owner, [this](const MucIqRequest& q, IqResponder reply) {
    if (!is_query(q)) return reply.error(errors::service_unavailable());
    owner_get(*q.context.room, q.context.from, std::move(reply));
  });
  r.on(T::room, "set", ns::muc_owner, [this](const MucIqRequest& q, IqResponder reply) {
    if (!is_query(q)) return reply.error(errors::service_unavailable());
    queue_write(*q.context.room,
                [this, p = Element(*q.payload), from = q.context.from,
                 r = std::make_shared<IqResponder>(std::move(reply))](Room& room, WriteTurn turn) {
                  owner_set(room, p, from, std::move(*r), std::move(turn));
                });
  });
  // The core's features, declared like a plugin's (Host::add_*_feature), first in disco#info.
  for (const std::string_view f : {ns::disco_info, ns::disco_items, ns::muc, ns::ping})
    add_service_feature(std::string(f));
  for (const std::string_view f : {
           "http://jabber.org/protocol/muc",
           "muc_membersonly",
           "muc_nonanonymous",
           "muc_persistent",
           "muc_hidden",
           "muc_unsecured",
           "urn:xmpp:sid:0",
           "urn:xmpp:occupant-id:0",
           "http://jabber.org/protocol/muc#self-ping-optimization",
           "http://jabber.org/protocol/muc#stable_id",
           "jabber:iq:register",
           "http://jabber.org/protocol/disco#info",
       })
    add_room_feature(std::string(f));
  for (const char* t : {"get", "set"})
    for (const std::string_view x :
         {ns::disco_info, ns::disco_items, ns::ping, ns::register_, ns::muc_admin, ns::muc_owner})
      core_iqs.insert(std::string(t) + ' ' + std::string(x));
  r.otherwise(T::occupant, [this](const MucIqRequest& q, IqResponder reply) {
    forward_iq(q, std::move(reply));
  });
}

}  // namespace salon::muc
