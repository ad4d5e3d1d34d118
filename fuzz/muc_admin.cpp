// SPDX-License-Identifier: GPL-3.0-or-later
// The muc#admin parsers (server/muc/admin_items.cpp), fed a <query/> as the link would deliver
// it (bytes -> parse_xml): as a get (which list) and every <item/> as a set would read it.
// Beyond "no crash":
//  - errors are exactly what XEP-0045 names for a payload's shape: bad-request, or
//    jid-malformed for a nick or jid that does not prepare; both of type modify;
//  - a parsed item is prepared: its nick is resourceprep'd and its JID a normalised bare JID
//    (preparing either again changes nothing), and it names its user by jid or by nick;
//  - a parsed item or list query, written back and sent over the wire again, parses the same.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/jid.hpp"
#include "core/xml_parse.hpp"
#include "fail.hpp"
#include "muc/admin_items.hpp"

namespace {

using salon::fuzz::fail;
using namespace salon;
using salon::muc::AdminItem;
using salon::muc::AdminList;

void check_error(const StanzaError& e, bool jid_malformed_allowed) {
  if (e.type != ErrorType::modify) fail("an error not of type modify");
  if (e.condition != "bad-request" && !(jid_malformed_allowed && e.condition == "jid-malformed"))
    fail("an error other than bad-request/jid-malformed");
}

Element over_the_wire(const Element& e) {
  auto again = parse_xml(e.xml());
  if (!again) fail("the written element does not parse");
  return *std::move(again);
}

Element write_item(const AdminItem& c) {
  Element item("item");
  if (c.is_role)
    item.set_attr("role", std::string(to_string(c.role)));
  else
    item.set_attr("affiliation", std::string(to_string(c.affiliation)));
  if (c.nick_given) item.set_attr("nick", c.nick);
  if (!c.bare.empty()) item.set_attr("jid", c.bare);
  if (!c.reason.empty()) item.add_child("reason").set_text(c.reason);
  return item;
}

void check_item(const AdminItem& c) {
  if (c.nick_given) {
    const auto again = Jid::resourceprep(c.nick);
    if (!again || *again != c.nick) fail("the nick is not resourceprep'd");
  } else if (!c.nick.empty()) {
    fail("a nick without nick_given");
  }
  if (c.is_role) {
    if (!c.nick_given || c.by_nick || !c.bare.empty())
      fail("a role change without its nick, or with a jid");
  } else if (c.by_nick) {
    if (!c.nick_given || !c.bare.empty()) fail("a change by nick without the nick");
  } else {
    const auto j = Jid::parse(c.bare);
    if (!j || !j->is_bare() || j->bare_str() != c.bare) fail("the jid is not a prepared bare JID");
  }
  const auto again = muc::parse_admin_item(over_the_wire(write_item(c)));
  if (!std::holds_alternative<AdminItem>(again) || std::get<AdminItem>(again) != c)
    fail("the written item parses differently");
}

void check_list(const AdminList& list) {
  Element q("query", ns::muc_admin);
  Element& item = q.add_child("item");
  if (const auto* a = std::get_if<Affiliation>(&list)) {
    if (*a == Affiliation::none) fail("a list of affiliation none");  // there is no list of "none"
    item.set_attr("affiliation", std::string(to_string(*a)));
  } else {
    item.set_attr("role", std::string(to_string(std::get<Role>(list))));
  }
  const auto again = muc::parse_admin_get(over_the_wire(q));
  if (!std::holds_alternative<AdminList>(again) || std::get<AdminList>(again) != list)
    fail("the written list query parses differently");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto q = parse_xml(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!q) return 0;
  const auto list = muc::parse_admin_get(*q);
  if (const auto* err = std::get_if<StanzaError>(&list))
    check_error(*err, false);
  else
    check_list(std::get<AdminList>(list));
  for (const Element* item : q->children_named("item")) {
    const auto parsed = muc::parse_admin_item(*item);
    if (const auto* err = std::get_if<StanzaError>(&parsed))
      check_error(*err, true);
    else
      check_item(std::get<AdminItem>(parsed));
  }
  return 0;
}
