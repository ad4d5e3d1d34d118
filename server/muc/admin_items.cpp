// SPDX-License-Identifier: GPL-3.0-or-later
#include "muc/admin_items.hpp"

#include "core/jid.hpp"

namespace salon::muc {

std::variant<AdminItem, StanzaError> parse_admin_item(const Element& item) {
  AdminItem c;
  const bool has_aff = item.has_attr("affiliation");
  const bool has_role = item.has_attr("role");
  if (has_aff == has_role) return errors::bad_request("an item changes an affiliation or a role");
  c.reason = std::string(item.child_text("reason"));
  c.nick_given = item.has_attr("nick");
  if (c.nick_given) {
    auto n = Jid::resourceprep(item.attr("nick"));
    if (!n) return errors::jid_malformed("invalid nick");
    c.nick = *n;
  }
  if (has_role) {
    auto r = parse_role(item.attr("role"));
    if (!r) return errors::bad_request("unknown role");
    if (!c.nick_given) return errors::bad_request("a role change needs a nick");
    c.is_role = true;
    c.role = *r;
    return c;
  }
  auto a = parse_affiliation(item.attr("affiliation"));
  if (!a) return errors::bad_request("unknown affiliation");
  c.affiliation = *a;
  if (item.has_attr("jid")) {
    auto j = Jid::parse(item.attr("jid"));
    if (!j) return errors::jid_malformed();
    c.bare = j->bare_str();
  } else if (c.nick_given) {
    c.by_nick = true;
  } else {
    return errors::bad_request("an affiliation change needs a jid");
  }
  return c;
}

std::variant<AdminList, StanzaError> parse_admin_get(const Element& query) {
  const Element* item = query.child("item");
  if (!item || item->has_attr("affiliation") == item->has_attr("role"))
    return errors::bad_request();
  if (item->has_attr("affiliation")) {
    const auto wanted = parse_affiliation(item->attr("affiliation"));
    if (!wanted || *wanted == Affiliation::none) return errors::bad_request();
    return AdminList{*wanted};
  }
  const auto wanted = parse_role(item->attr("role"));
  if (!wanted) return errors::bad_request();
  return AdminList{*wanted};
}

}  // namespace salon::muc
