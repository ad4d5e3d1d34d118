// SPDX-License-Identifier: GPL-3.0-or-later
// The muc#owner payloads (XEP-0045 §10.2, §10.9) without a room: the configuration form
// salon shows, what a set asks for, and what a submitted form changes. Pure, so
// fuzz/muc_owner.cpp drives them without a running service; owner.cpp checks who asks and
// stores the result.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/element.hpp"
#include "core/stanza.hpp"
#include "muc/store.hpp"

namespace salon::muc {

inline constexpr std::string_view kRoomConfig = "http://jabber.org/protocol/muc#roomconfig";

// A submitted form's fields: var -> values, in order (a repeated var adds to its values).
using FormFields = std::map<std::string, std::vector<std::string>>;

// What a muc#owner set asks for.
struct OwnerSet {
  enum class Kind {
    instant,  // no child: "instant room" (§10.1.2); it exists already
    destroy,  // <destroy/> (§10.9)
    cancel,   // a cancelled form (§10.2): the configuration stays as it was
    submit,   // a submitted form
  };
  Kind kind = Kind::instant;
  Element destroy{};       // Kind::destroy: the <destroy/> as sent
  FormFields fields = {};  // Kind::submit
};

// bad-request unless the query's first child is a <destroy/> or a jabber:x:data form of
// type submit or cancel.
std::variant<OwnerSet, StanzaError> parse_owner_set(const Element& query);

// The room configuration form of `room` (a muc#owner get's <query/>); `room_jid` titles it.
Element config_form(const RoomRecord& room, std::string_view room_jid);

// Applies submitted fields to `next` (name, description, settings). bad-request for a
// malformed value, not-acceptable for a change of what the service fixes; fields that are
// not salon's are ignored (XEP-0004).
std::optional<StanzaError> apply_config_form(const FormFields& fields, RoomRecord& next);

}  // namespace salon::muc
