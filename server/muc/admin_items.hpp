// SPDX-License-Identifier: GPL-3.0-or-later
// The muc#admin payloads (XEP-0045 §8, §9, §10) parsed without a room: what an <item/> asks
// for, or the error its shape alone earns. Pure, so fuzz/muc_admin.cpp drives it without a
// running service; admin.cpp then checks the request against the room (who asks, who is in).
#pragma once

#include <string>
#include <variant>

#include "core/affiliation.hpp"
#include "core/element.hpp"
#include "core/stanza.hpp"

namespace salon::muc {

// One <item/> of a muc#admin set: an affiliation change or a role change.
struct AdminItem {
  bool is_role = false;
  std::string bare;  // affiliation change: the user's bare JID, normalised ("" when by_nick)
  Affiliation affiliation = Affiliation::none;
  // Role change: the occupant. Affiliation change: the nick to reserve, or with by_nick the
  // occupant whose user is meant. Resourceprep'd.
  std::string nick;
  bool nick_given = false;
  // An affiliation change that names its user by an occupant's nick only (§9.1 allows it):
  // the room looks the occupant up, after checking that the asker may change affiliations.
  bool by_nick = false;
  Role role = Role::none;
  std::string reason;
  friend bool operator==(const AdminItem&, const AdminItem&) = default;
};

// bad-request for a malformed item, jid-malformed for a nick or jid that does not prepare.
std::variant<AdminItem, StanzaError> parse_admin_item(const Element& item);

// What a muc#admin get asks for (§9.5, §10.5...): the list of one affiliation or one role.
using AdminList = std::variant<Affiliation, Role>;
// bad-request unless the query's first <item/> names exactly one known affiliation (not
// "none") or role.
std::variant<AdminList, StanzaError> parse_admin_get(const Element& query);

}  // namespace salon::muc
