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

bool has_payload(const Element& iq) {
  return iq.children().size() == 1;
}
}  // namespace

void Service::Impl::service_disco_info(const Element& q, IqResponder reply) {
  if (!q.attr("node").empty()) return reply.error(errors::item_not_found());
  Element out("query", ns::disco_info);
  out.add_child("identity")
      .set_attr("category", "conference")
      .set_attr("type", "text")
      .set_attr("name", "Project rooms");
  std::vector<std::string> features{std::string(ns::disco_info), std::string(ns::disco_items),
                                    std::string(ns::muc), std::string(ns::ping)};
  for (const auto& f : service_features)
    if (std::find(features.begin(), features.end(), f) == features.end()) features.push_back(f);
  for (const auto& f : features)
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
  IqResponder reply = responder(iq);
  if (!has_payload(iq))
    return reply.error(errors::bad_request("an IQ get/set must contain exactly one payload"));
  const Element& q = iq.children().front();
  const std::string type(iq.attr("type"));
  const bool get = type == "get";
  const std::string_view x = q.xmlns();
  if (q.name() == "query") {
    if (get && x == ns::disco_info) return disco_info(room, iq, q, from, std::move(reply));
    if (get && x == ns::disco_items)
      return reply.result(Element("query", ns::disco_items));  // occupants are not listed
    if (x == ns::register_) {
      if (get) return register_get(room, from, std::move(reply));
      return reply.error(errors::not_allowed("nicknames are managed by the project"));
    }
    if (x == ns::muc_admin) {
      if (get) return admin_get(room, q, from, std::move(reply));
      return queue_write(
          room, [this, q = Element(q), from, r = std::make_shared<IqResponder>(std::move(reply))](
                    Room& target, WriteTurn turn) {
            admin_set(target, q, from, std::move(*r), std::move(turn));
          });
    }
    if (x == ns::muc_owner) {
      if (get) return owner_get(room, from, std::move(reply));
      return queue_write(
          room, [this, q = Element(q), from, r = std::make_shared<IqResponder>(std::move(reply))](
                    Room& target, WriteTurn turn) {
            owner_set(target, q, from, std::move(*r), std::move(turn));
          });
    }
  }
  auto it = room_iq_handlers.find({type, std::string(x)});
  if (it == room_iq_handlers.end()) return reply.error(errors::service_unavailable());
  const plugin::RoomView view = room_view(room);
  const Occupant* occupant = room.occupant_by_real(from);
  const plugin::RoomIq req{iq,
                           q,
                           view,
                           from,
                           room.affiliation_of(from),
                           occupant ? std::optional(occupant_view(room, *occupant)) : std::nullopt};
  try {
    it->second(req, std::move(reply));
  } catch (const std::exception& e) {
    log::error("muc", "room IQ handler for {} threw: {}", x, e.what());
  }
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
  static constexpr std::string_view kFeatures[] = {
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
  };
  std::vector<std::string_view> features(std::begin(kFeatures), std::end(kFeatures));
  for (const auto& f : room_features)
    if (std::find(features.begin(), features.end(), f) == features.end()) features.push_back(f);
  for (const auto f : features)
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
