// SPDX-License-Identifier: GPL-3.0-or-later
// muc#owner (XEP-0045 §10.2, §10.9): the room configuration form (name, description, subject
// changes, private messages; persistence, membership and real-JID visibility are fixed by the
// service) and room destruction, by owners over XMPP or by the provisioning API.
#include "core/log.hpp"
#include "muc/impl.hpp"

namespace salon::muc {

namespace {
constexpr std::string_view kRoomConfig = "http://jabber.org/protocol/muc#roomconfig";

Element field(std::string_view var, std::string_view type, std::string_view label,
              std::vector<std::string> values = {}) {
  Element f("field");
  f.set_attr("var", std::string(var));
  f.set_attr("type", std::string(type));
  if (!label.empty()) f.set_attr("label", std::string(label));
  for (auto& v : values)
    f.add_child("value").set_text(std::move(v));
  return f;
}

void add_option(Element& f, std::string_view label, std::string_view value) {
  Element& o = f.add_child("option");
  o.set_attr("label", std::string(label));
  o.add_child("value").set_text(std::string(value));
}

std::optional<bool> parse_bool(std::string_view v) {
  if (v == "1" || v == "true") return true;
  if (v == "0" || v == "false") return false;
  return std::nullopt;
}

using Fields = std::map<std::string, std::vector<std::string>>;

Fields read_fields(const Element& form) {
  Fields out;
  for (const Element* f : form.children_named("field")) {
    auto& values = out[std::string(f->attr("var"))];
    for (const Element* v : f->children_named("value"))
      values.push_back(v->text());
  }
  return out;
}

// Applies the submitted fields to `next`; an error names what salon does not offer.
std::optional<StanzaError> apply_form(const Fields& fields, RoomRecord& next) {
  auto first = [&](std::string_view var) -> std::optional<std::string> {
    auto it = fields.find(std::string(var));
    if (it == fields.end()) return std::nullopt;
    return it->second.empty() ? std::string() : it->second.front();
  };
  if (auto v = first("FORM_TYPE"); v && *v != kRoomConfig)
    return errors::bad_request("the form is not a room configuration");
  if (auto v = first("muc#roomconfig_roomname")) next.name = *v;
  if (auto v = first("muc#roomconfig_roomdesc")) next.description = *v;
  if (auto v = first("muc#roomconfig_changesubject")) {
    auto b = parse_bool(*v);
    if (!b) return errors::bad_request("changesubject must be a boolean");
    next.settings.members_can_change_subject = *b;
  }
  if (auto v = first("muc#roomconfig_allowpm")) {
    if (*v == "anyone" || *v == "participants")
      next.settings.allow_private_messages = true;
    else if (*v == "moderators" || *v == "none")
      next.settings.allow_private_messages = false;
    else
      return errors::bad_request("allowpm must be anyone, participants, moderators or none");
  }
  // Fixed by the service: project rooms are persistent, members-only, non-anonymous, hidden,
  // without passwords or moderation.
  auto fixed = [&](std::string_view var, bool required) -> std::optional<StanzaError> {
    if (auto v = first(var)) {
      auto b = parse_bool(*v);
      if (!b || *b != required)
        return errors::not_acceptable(std::string(var) + " is fixed by the service");
    }
    return std::nullopt;
  };
  for (auto [var, required] : {std::pair{"muc#roomconfig_persistentroom", true},
                               std::pair{"muc#roomconfig_membersonly", true},
                               std::pair{"muc#roomconfig_passwordprotectedroom", false},
                               std::pair{"muc#roomconfig_publicroom", false},
                               std::pair{"muc#roomconfig_moderatedroom", false}})
    if (auto err = fixed(var, required)) return err;
  if (auto v = first("muc#roomconfig_whois"); v && *v != "anyone")
    return errors::not_acceptable("real JIDs are always visible in project rooms");
  if (auto v = first("muc#roomconfig_roomsecret"); v && !v->empty())
    return errors::not_acceptable("project rooms have no password");
  return std::nullopt;  // other fields are not ours: ignored (XEP-0004)
}
}  // namespace

void Service::Impl::owner_get(Room& room, const Jid& from, IqResponder reply) {
  if (room.affiliation_of(from) != Affiliation::owner)
    return reply.error(errors::forbidden("only owners configure the room"));
  const auto& r = room.record;
  Element q("query", ns::muc_owner);
  Element& x = q.add_child("x", ns::data_forms);
  x.set_attr("type", "form");
  x.add_child("title").set_text("Configuration for " + room.jid.bare_str());
  x.add_child(field("FORM_TYPE", "hidden", {}, {std::string(kRoomConfig)}));
  x.add_child(field("muc#roomconfig_roomname", "text-single", "Name", {r.name}));
  x.add_child(field("muc#roomconfig_roomdesc", "text-single", "Description", {r.description}));
  x.add_child(field("muc#roomconfig_changesubject", "boolean",
                    "Allow members to change the subject",
                    {r.settings.members_can_change_subject ? "1" : "0"}));
  Element& pm = x.add_child(field("muc#roomconfig_allowpm", "list-single", "Allow private messages",
                                  {r.settings.allow_private_messages ? "anyone" : "none"}));
  add_option(pm, "Everyone", "anyone");
  add_option(pm, "Nobody", "none");
  x.add_child(field("muc#roomconfig_persistentroom", "boolean", "Persistent (fixed)", {"1"}));
  x.add_child(field("muc#roomconfig_membersonly", "boolean", "Members only (fixed)", {"1"}));
  Element& whois = x.add_child(
      field("muc#roomconfig_whois", "list-single", "Real JIDs visible to (fixed)", {"anyone"}));
  add_option(whois, "Anyone", "anyone");
  reply.result(std::move(q));
}

void Service::Impl::owner_set(Room& room, const Element& q, const Jid& from, IqResponder reply,
                              WriteTurn turn) {
  if (room.destroyed) return reply.error(errors::item_not_found("room destroyed"));
  if (room.affiliation_of(from) != Affiliation::owner)
    return reply.error(errors::forbidden("only owners configure or destroy the room"));
  if (q.children().empty()) return reply.result();  // "instant room": it exists already
  const Element& child = q.children().front();
  std::weak_ptr<Room> weak = rooms.at(room.local);
  std::weak_ptr<int> life = alive;
  auto shared = std::make_shared<IqResponder>(std::move(reply));

  if (child.name() == "destroy") {
    Element destroy = child;
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
  if (!child.is("x", ns::data_forms)) return shared->error(errors::bad_request());
  const std::string_view type = child.attr("type");
  if (type == "cancel") return shared->result();  // §10.2: configuration stays as it was
  if (type != "submit") return shared->error(errors::bad_request("not a submitted form"));

  RoomRecord next = room.record;
  if (auto err = apply_form(read_fields(child), next)) return shared->error(*err);
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
