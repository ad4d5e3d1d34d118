// SPDX-License-Identifier: GPL-3.0-or-later
#include "muc/owner_form.hpp"

namespace salon::muc {

namespace {

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

FormFields read_fields(const Element& form) {
  FormFields out;
  for (const Element* f : form.children_named("field")) {
    auto& values = out[std::string(f->attr("var"))];
    for (const Element* v : f->children_named("value"))
      values.push_back(v->text());
  }
  return out;
}

}  // namespace

std::variant<OwnerSet, StanzaError> parse_owner_set(const Element& query) {
  OwnerSet set;
  if (query.children().empty()) return set;
  const Element& child = query.children().front();
  if (child.name() == "destroy") {
    set.kind = OwnerSet::Kind::destroy;
    set.destroy = child;
    return set;
  }
  if (!child.is("x", ns::data_forms)) return errors::bad_request();
  const std::string_view type = child.attr("type");
  if (type == "cancel") {
    set.kind = OwnerSet::Kind::cancel;
    return set;
  }
  if (type != "submit") return errors::bad_request("not a submitted form");
  set.kind = OwnerSet::Kind::submit;
  set.fields = read_fields(child);
  return set;
}

Element config_form(const RoomRecord& r, std::string_view room_jid) {
  Element q("query", ns::muc_owner);
  Element& x = q.add_child("x", ns::data_forms);
  x.set_attr("type", "form");
  x.add_child("title").set_text("Configuration for " + std::string(room_jid));
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
  return q;
}

std::optional<StanzaError> apply_config_form(const FormFields& fields, RoomRecord& next) {
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

}  // namespace salon::muc
