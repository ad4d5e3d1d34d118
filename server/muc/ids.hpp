// SPDX-License-Identifier: GPL-3.0-or-later
// XEP-0421 occupant-ids, and (from core/uuid.hpp) the UUIDs the MUC mints.
#pragma once

#include <string>
#include <string_view>

#include "core/uuid.hpp"

namespace salon::muc {

// XEP-0421 §4.1: stable per (room, real bare JID) and pseudonymous. base64url (no padding) of
// HMAC-SHA256(key, room_bare '|' user_bare): 43 characters, the user's JID not recoverable
// without the key.
std::string occupant_id(std::string_view key, std::string_view room_bare,
                        std::string_view user_bare);

}  // namespace salon::muc
