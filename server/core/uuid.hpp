// SPDX-License-Identifier: GPL-3.0-or-later
// UUIDs the service mints: XEP-0359 stanza-ids (UUIDv7, by the MUC core and by plugins for the
// stanzas they originate) and other ids (UUIDv4). Random bits come from OpenSSL's generator.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace salon {

// A random RFC 4122 version 4 UUID in its canonical lowercase form.
std::string uuid4();

// An RFC 9562 version 7 UUID: milliseconds since the epoch, then the microseconds within that
// millisecond (the "increased clock precision" of RFC 9562 §6.2, method 3), then 62 random
// bits. Stanza-ids minted in order sort in order, so an archive's unique index on them grows
// at its right edge instead of taking each insert at a random page; 62 random bits keep them
// unguessable.
std::string uuid7(std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// The time a version 7 UUID minted by uuid7() carries, to the microsecond; nullopt for text that
// is not a canonical lowercase version 7 UUID. A room's stanza-ids are minted from the time the
// room received the message, so an XEP-0333 marker's id says how far its sender has read
// without a look-up.
std::optional<std::chrono::system_clock::time_point> uuid7_time(std::string_view text);

}  // namespace salon
