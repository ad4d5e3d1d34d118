// SPDX-License-Identifier: GPL-3.0-or-later
// Identifiers the service mints: XEP-0359 stanza-ids (UUIDv7), other ids (UUIDv4) and XEP-0421
// occupant-ids.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace salon::muc {

// A random RFC 4122 version 4 UUID in its canonical lowercase form.
std::string uuid4();

// An RFC 9562 version 7 UUID: milliseconds since the epoch, then the microseconds within that
// millisecond (the "increased clock precision" of RFC 9562 §6.2, method 3), then 62 random
// bits. Stanza-ids minted in order sort in order, so an archive's unique index on them grows
// at its right edge instead of taking each insert at a random page; 62 random bits keep them
// unguessable.
std::string uuid7(std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// XEP-0421 §4.1: stable per (room, real bare JID) and pseudonymous. base64url (no padding) of
// HMAC-SHA256(key, room_bare '|' user_bare): 43 characters, the user's JID not recoverable
// without the key.
std::string occupant_id(std::string_view key, std::string_view room_bare,
                        std::string_view user_bare);

}  // namespace salon::muc
