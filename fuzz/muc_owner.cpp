// SPDX-License-Identifier: GPL-3.0-or-later
// The muc#owner parsers (server/muc/owner_form.cpp), fed a <query/> as the link would deliver
// it (bytes -> parse_xml) to a set, and a submitted form applied to a room's configuration.
// Beyond "no crash":
//  - errors are the precise conditions: bad-request (modify) for a malformed set or value,
//    not-acceptable (cancel) only for a field salon fixes;
//  - applying a form is idempotent: once more onto its own result changes nothing;
//  - the form salon shows for the result (config_form, what a get answers), submitted back
//    as is over the wire, is accepted and sets exactly that configuration, whatever it was.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/xml_parse.hpp"
#include "fail.hpp"
#include "muc/owner_form.hpp"

namespace {

using salon::fuzz::fail;
using namespace salon;
using salon::muc::FormFields;
using salon::muc::OwnerSet;
using salon::muc::RoomRecord;

constexpr std::string_view kRoom = "p1@rooms.example.com";

bool same_config(const RoomRecord& a, const RoomRecord& b) {
  return a.name == b.name && a.description == b.description &&
         a.settings.members_can_change_subject == b.settings.members_can_change_subject &&
         a.settings.allow_private_messages == b.settings.allow_private_messages;
}

bool has_any(const FormFields& f, std::initializer_list<std::string_view> vars) {
  for (auto v : vars)
    if (f.count(std::string(v))) return true;
  return false;
}

void check_apply_error(const StanzaError& e, const FormFields& fields) {
  if (e.condition == "bad-request") {
    if (e.type != ErrorType::modify ||
        !has_any(fields, {"FORM_TYPE", "muc#roomconfig_changesubject", "muc#roomconfig_allowpm"}))
      fail("bad-request where no field can be malformed");
  } else if (e.condition == "not-acceptable") {
    if (e.type != ErrorType::cancel ||
        !has_any(fields, {"muc#roomconfig_persistentroom", "muc#roomconfig_membersonly",
                          "muc#roomconfig_passwordprotectedroom", "muc#roomconfig_publicroom",
                          "muc#roomconfig_moderatedroom", "muc#roomconfig_whois",
                          "muc#roomconfig_roomsecret"}))
      fail("not-acceptable where no fixed field is given");
  } else {
    fail("an error other than bad-request/not-acceptable");
  }
}

// What a client does with a get's form: fill in nothing, submit it back.
Element submit_back(const Element& get_answer) {
  Element q("query", ns::muc_owner);
  Element& x = q.add_child("x", ns::data_forms);
  x.set_attr("type", "submit");
  for (const Element* f : get_answer.child("x", ns::data_forms)->children_named("field")) {
    Element& out = x.add_child("field");
    out.set_attr("var", std::string(f->attr("var")));
    for (const Element* v : f->children_named("value"))
      out.add_child("value").set_text(v->text());
  }
  auto wire = parse_xml(q.xml());
  if (!wire) fail("the submitted-back form does not parse");
  return *std::move(wire);
}

void check_submit(const FormFields& fields) {
  RoomRecord base;
  base.name = "Design";
  base.description = "Logo and brand";
  RoomRecord next = base;
  if (auto err = muc::apply_config_form(fields, next)) return check_apply_error(*err, fields);
  RoomRecord twice = next;
  if (muc::apply_config_form(fields, twice) || !same_config(twice, next))
    fail("applying the form twice is not idempotent");

  const auto parsed = muc::parse_owner_set(submit_back(muc::config_form(next, kRoom)));
  const auto* set = std::get_if<OwnerSet>(&parsed);
  if (!set || set->kind != OwnerSet::Kind::submit) fail("the submitted-back form is not a submit");
  RoomRecord other;  // a different configuration: the form must set every part of it
  other.name = "x";
  other.description = "y";
  other.settings.members_can_change_subject = !next.settings.members_can_change_subject;
  other.settings.allow_private_messages = !next.settings.allow_private_messages;
  if (muc::apply_config_form(set->fields, other) || !same_config(other, next))
    fail("the form shown, submitted back, does not set the configuration it shows");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto q = parse_xml(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!q) return 0;
  const auto parsed = muc::parse_owner_set(*q);
  if (const auto* err = std::get_if<StanzaError>(&parsed)) {
    if (err->condition != "bad-request" || err->type != ErrorType::modify)
      fail("a set error other than bad-request (modify)");
    return 0;
  }
  const OwnerSet& set = std::get<OwnerSet>(parsed);
  switch (set.kind) {
    case OwnerSet::Kind::instant:
      if (!q->children().empty()) fail("instant with children");
      break;
    case OwnerSet::Kind::destroy:
      if (set.destroy != q->children().front()) fail("destroy is not the first child");
      break;
    case OwnerSet::Kind::cancel: break;
    case OwnerSet::Kind::submit: check_submit(set.fields); break;
  }
  return 0;
}
