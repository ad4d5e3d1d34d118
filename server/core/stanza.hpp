// SPDX-License-Identifier: GPL-3.0-or-later
// Stanza helpers shared by the core and plugins: error conditions (RFC 6120 §8.3), error replies
// and the well-known namespaces.
#pragma once

#include <string>
#include <string_view>

#include "core/element.hpp"

namespace salon {

namespace ns {
inline constexpr std::string_view component = "jabber:component:accept";
inline constexpr std::string_view stanzas = "urn:ietf:params:xml:ns:xmpp-stanzas";
inline constexpr std::string_view disco_info = "http://jabber.org/protocol/disco#info";
inline constexpr std::string_view disco_items = "http://jabber.org/protocol/disco#items";
inline constexpr std::string_view ping = "urn:xmpp:ping";
inline constexpr std::string_view muc = "http://jabber.org/protocol/muc";
inline constexpr std::string_view muc_user = "http://jabber.org/protocol/muc#user";
inline constexpr std::string_view muc_admin = "http://jabber.org/protocol/muc#admin";
inline constexpr std::string_view muc_owner = "http://jabber.org/protocol/muc#owner";
inline constexpr std::string_view data_forms = "jabber:x:data";
inline constexpr std::string_view register_ = "jabber:iq:register";
inline constexpr std::string_view sid = "urn:xmpp:sid:0";
inline constexpr std::string_view occupant_id = "urn:xmpp:occupant-id:0";
inline constexpr std::string_view delay = "urn:xmpp:delay";
inline constexpr std::string_view version = "jabber:iq:version";
}  // namespace ns

enum class ErrorType { cancel, continue_, modify, auth, wait };
std::string_view to_string(ErrorType t);

// A stanza error: type, defined condition (e.g. "item-not-found"), optional text, optional
// 'by', and an optional application-specific condition element.
struct StanzaError {
  ErrorType type = ErrorType::cancel;
  std::string condition;
  std::string text;
  std::string by;
  Element app_condition{};  // empty name = none

  static StanzaError make(ErrorType type, std::string condition, std::string text = {}) {
    return StanzaError{type, std::move(condition), std::move(text), {}, {}};
  }
  [[nodiscard]] Element to_element() const;
};

// Common conditions with the type RFC 6120 recommends.
namespace errors {
StanzaError bad_request(std::string text = {});
StanzaError conflict(std::string text = {});
StanzaError feature_not_implemented(std::string text = {});
StanzaError forbidden(std::string text = {});
StanzaError internal_server_error(std::string text = {});
StanzaError item_not_found(std::string text = {});
StanzaError jid_malformed(std::string text = {});
StanzaError not_acceptable(std::string text = {});
StanzaError not_allowed(std::string text = {});
StanzaError not_authorized(std::string text = {});
StanzaError policy_violation(std::string text = {});
StanzaError recipient_unavailable(std::string text = {});
StanzaError registration_required(std::string text = {});
StanzaError resource_constraint(std::string text = {});
StanzaError service_unavailable(std::string text = {});
}  // namespace errors

// Builds the error reply to `stanza`: same name and id, from/to swapped, type='error', the
// original children kept for messages/presences (RFC 6120 §8.3.1 allows it; IQ payloads are
// dropped to keep replies small), plus the <error/>.
Element make_error_reply(const Element& stanza, const StanzaError& err);
// Builds an empty IQ result to `iq` (from/to swapped, same id).
Element make_iq_result(const Element& iq);
// The stanza's error condition name (e.g. "recipient-unavailable"), "" when none.
std::string_view error_condition(const Element& stanza);

}  // namespace salon
