// SPDX-License-Identifier: GPL-3.0-or-later
// What the archive stores of a groupchat message, decided from the stanza alone (pure, so the
// rules are unit-tested): bodies, corrections (XEP-0308), retractions (XEP-0424), messages
// with only an OOB link (XEP-0066) and reactions (XEP-0444). Chat states, receipts and chat
// markers are transient and are not archived (docs/ARCHIVE.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/element.hpp"

namespace salon::archive {

namespace ns {
inline constexpr std::string_view mam = "urn:xmpp:mam:2";
inline constexpr std::string_view mam_extended = "urn:xmpp:mam:2#extended";
inline constexpr std::string_view rsm = "http://jabber.org/protocol/rsm";
inline constexpr std::string_view data = "jabber:x:data";
inline constexpr std::string_view forward = "urn:xmpp:forward:0";
inline constexpr std::string_view delay = "urn:xmpp:delay";
inline constexpr std::string_view fulltext = "urn:xmpp:fulltext:0";
inline constexpr std::string_view correct = "urn:xmpp:message-correct:0";
inline constexpr std::string_view retract = "urn:xmpp:message-retract:1";
inline constexpr std::string_view oob = "jabber:x:oob";
inline constexpr std::string_view reactions = "urn:xmpp:reactions:0";
inline constexpr std::string_view sid = "urn:xmpp:sid:0";
inline constexpr std::string_view occupant_id = "urn:xmpp:occupant-id:0";
inline constexpr std::string_view client = "jabber:client";
}  // namespace ns

enum class Kind { message, subject, correction, retraction };
std::string_view to_string(Kind k);

struct Classified {
  Kind kind = Kind::message;
  // Search text; has_body is false for OOB-only, reactions, retractions. (Not an optional:
  // GCC 12 warns maybe-uninitialized on moved optional<string>s.)
  bool has_body = false;
  std::string body;
  std::string msg_id;    // origin-id, else the id attribute ("" when neither)
  std::string replaces;  // correction: the corrected id; retraction: the stanza-id
};

// nullopt: not archived.
std::optional<Classified> classify(const Element& message);

}  // namespace salon::archive
