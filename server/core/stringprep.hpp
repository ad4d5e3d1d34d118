// SPDX-License-Identifier: GPL-3.0-or-later
// The three stringprep profiles a JID's parts go through (RFC 3920 nodeprep, nameprep,
// resourceprep, as libidn implements them), one string at a time. Jid parsing
// (core/jid_parse.cpp) is built on them. They are defined in salon_jidprep
// (server/xmpp/stringprep.cpp): gloox stays in server/xmpp/, and the core links that small
// library instead of the XMPP link's, which itself links the core (no cycle).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace salon::stringprep {

// The prepared text, or nullopt when the profile refuses the input. The result may be empty
// or longer than the input; the caller checks the part's limits.
std::optional<std::string> nodeprep(std::string_view local);
std::optional<std::string> nameprep(std::string_view domain);
std::optional<std::string> resourceprep(std::string_view resource);

}  // namespace salon::stringprep
