// SPDX-License-Identifier: GPL-3.0-or-later
// UTF-8 text helpers shared by the MUC service and the provisioning API, so that both count
// and compare nicks the same way (limits are in characters, not bytes).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace salon {

// Number of Unicode code points in UTF-8 text (continuation bytes are not counted).
std::size_t utf8_length(std::string_view s);

// The key under which two reserved nicks are "the same": lower-cased per code point, as
// PostgreSQL's lower() does in a UTF-8 database (the unique index affiliations_room_nick is on
// lower(nick)), so a duplicate is refused before the store is asked, not at commit.
std::u32string nick_key(std::string_view nick);

// Appends `s` escaped for the inside of a JSON string (quotes, backslash, control characters).
// `escape_lt` also escapes '<', so the JSON can be embedded in an HTML page.
void append_json_escaped(std::string& out, std::string_view s, bool escape_lt = false);

}  // namespace salon
