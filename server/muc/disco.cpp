// SPDX-License-Identifier: GPL-3.0-or-later
// Service discovery (XEP-0030) for the service and its rooms, the room IQ dispatch, and
// jabber:iq:register (XEP-0045 §7.10: the reserved nick is the provisioned display name).
#include <algorithm>

#include "core/log.hpp"
#include "muc/impl.hpp"

namespace salon::muc {

namespace {
constexpr std::string_view kRoomUserItem = "x-roomuser-item";
constexpr std::string_view kRoomInfo = "http://jabber.org/protocol/muc#roominfo";

void add_feature(Element& q, std::string_view var) {
  q.add_child("feature").set_attr("var", std::string(var));
}

Element field(std::string_view var, std::string_view label, std::string value,
              std::string_view type = {}) {
  Element f("field");
  f.set_attr("var", std::string(var));
  if (!type.empty()) f.set_attr("type", std::string(type));
  if (!label.empty()) f.set_attr("label", std::string(label));
  f.add_child("value").set_text(std::move(value));
  return f;
}

}  // namespace

void Service::Impl::service_disco_info(const Element& q, IqResponder reply) {
  if (!q.attr("node").empty()) return reply.error(errors::item_not_found());
  Element out("query", ns::disco_info);
  out.add_child("identity")
      .set_attr("category", "conference")
      .set_attr("type", "text")
      .set_attr("name", "Project rooms");
  for (const auto& f : service_features)  // the core's (route_core_iqs), then the plugins'
    add_feature(out, f);
  reply.result(std::move(out));
}

void Service::Impl::service_disco_items(const Element& q, const Jid& from, IqResponder reply) {
  if (!q.attr("node").empty()) return reply.error(errors::item_not_found());
  // Rooms are hidden: a user sees only the rooms of their own projects.
  auto shared = std::make_shared<IqResponder>(std::move(reply));
  std::weak_ptr<int> life = alive;
  store.rooms_of(from.bare_str(),
                 [this, life, shared](std::map<std::string, std::string> rooms_, StoreError err) {
                   if (life.expired()) return;
                   if (err) {
                     log::error("muc", "rooms_of failed: {}", err.message);
                     return shared->error(errors::internal_server_error());
                   }
                   Element out("query", ns::disco_items);
                   for (const auto& [local, name] : rooms_) {
                     Element& item = out.add_child("item");
                     item.set_attr("jid", local + "@" + domain);
                     if (!name.empty()) item.set_attr("name", name);
                   }
                   shared->result(std::move(out));
                 });
}

void Service::Impl::room_iq(Room& room, const Element& iq, const Jid& from) {
  MucIq ctx{&room, from, {}};
  iq_router.dispatch(iq, IqTarget::room, ctx, responder(iq));
}

// A plugin's handler gets the room as plugins see it.
void Service::Impl::plugin_room_iq(const plugin::RoomIqHandler& h, const MucIqRequest& r,
                                   IqResponder reply) {
  Room& room = *r.context.room;
  const Jid& from = r.context.from;
  const plugin::RoomView view = room_view(room);
  const Occupant* occupant = room.occupant_by_real(from);
  const plugin::RoomIq req{r.iq,
                           *r.payload,
                           view,
                           from,
                           room.affiliation_of(from),
                           occupant ? std::optional(occupant_view(room, *occupant)) : std::nullopt};
  h(req, std::move(reply));
}

void Service::Impl::disco_info(Room& room, const Element& iq, const Element& q, const Jid& from,
                               IqResponder reply) {
  (void)iq;
  const Affiliation aff = room.affiliation_of(from);
  const std::string_view node = q.attr("node");
  if (node == kRoomUserItem) {
    // XEP-0045 §7.12: the requester's reserved nick.
    Element out("query", ns::disco_info);
    out.set_attr("node", std::string(kRoomUserItem));
    auto it = room.affiliations.find(from.bare_str());
    if (it != room.affiliations.end() && rank(aff) >= rank(Affiliation::member) &&
        !it->second.nick.empty()) {
      out.add_child("identity")
          .set_attr("category", "conference")
          .set_attr("name", it->second.nick)
          .set_attr("type", "text");
    }
    return reply.result(std::move(out));
  }
  if (!node.empty()) return reply.error(errors::item_not_found());

  // Project rooms are confidential: only affiliated users learn the name, description and
  // subject. Everyone learns what kind of room it is (a join would tell them anyway).
  const bool insider = rank(aff) >= rank(Affiliation::member);
  Element out("query", ns::disco_info);
  Element& id = out.add_child("identity");
  id.set_attr("category", "conference");
  id.set_attr("type", "text");
  if (insider && !room.record.name.empty()) id.set_attr("name", room.record.name);
  for (const auto& f : room_features)  // the core's (route_core_iqs), then the plugins'
    add_feature(out, f);

  if (insider) {
    Element& form = out.add_child("x", ns::data_forms);
    form.set_attr("type", "result");
    form.add_child(field("FORM_TYPE", {}, std::string(kRoomInfo), "hidden"));
    form.add_child(field("muc#roominfo_description", "Description", room.record.description));
    form.add_child(field("muc#roominfo_occupants", "Number of occupants",
                         std::to_string(room.occupants.size())));
    form.add_child(field("muc#roominfo_subject", "Subject", room.record.subject));
    form.add_child(field("muc#roomconfig_roomname", "Name", room.record.name));
  }
  reply.result(std::move(out));
}

void Service::Impl::register_get(Room& room, const Jid& from, IqResponder reply) {
  const Affiliation aff = room.affiliation_of(from);
  if (aff == Affiliation::outcast) return reply.error(errors::forbidden());
  if (rank(aff) < rank(Affiliation::member))
    return reply.error(errors::registration_required("membership is managed by the project"));
  Element out("query", ns::register_);
  out.add_child("registered");
  auto it = room.affiliations.find(from.bare_str());
  if (it != room.affiliations.end() && !it->second.nick.empty())
    out.add_child("username").set_text(it->second.nick);
  reply.result(std::move(out));
}

}  // namespace salon::muc
