// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/stanza.hpp"

namespace salon {

std::string_view to_string(ErrorType t) {
  switch (t) {
    case ErrorType::cancel: return "cancel";
    case ErrorType::continue_: return "continue";
    case ErrorType::modify: return "modify";
    case ErrorType::auth: return "auth";
    case ErrorType::wait: return "wait";
  }
  return "cancel";
}

Element StanzaError::to_element() const {
  Element e("error");
  e.set_attr("type", std::string(to_string(type)));
  if (!by.empty()) e.set_attr("by", by);
  e.add_child(condition, ns::stanzas);
  if (!text.empty()) e.add_child("text", ns::stanzas).set_text(text);
  if (!app_condition.name().empty()) e.add_child(app_condition);
  return e;
}

namespace errors {
#define SALON_ERROR(fn, type, cond)                                   \
  StanzaError fn(std::string text) {                                  \
    return StanzaError::make(ErrorType::type, cond, std::move(text)); \
  }
SALON_ERROR(bad_request, modify, "bad-request")
SALON_ERROR(conflict, cancel, "conflict")
SALON_ERROR(feature_not_implemented, cancel, "feature-not-implemented")
SALON_ERROR(forbidden, auth, "forbidden")
SALON_ERROR(internal_server_error, cancel, "internal-server-error")
SALON_ERROR(item_not_found, cancel, "item-not-found")
SALON_ERROR(jid_malformed, modify, "jid-malformed")
SALON_ERROR(not_acceptable, cancel, "not-acceptable")
SALON_ERROR(not_allowed, cancel, "not-allowed")
SALON_ERROR(not_authorized, auth, "not-authorized")
SALON_ERROR(policy_violation, modify, "policy-violation")
SALON_ERROR(recipient_unavailable, wait, "recipient-unavailable")
SALON_ERROR(registration_required, auth, "registration-required")
SALON_ERROR(resource_constraint, wait, "resource-constraint")
SALON_ERROR(service_unavailable, cancel, "service-unavailable")
#undef SALON_ERROR
}  // namespace errors

namespace {
Element swapped_reply(const Element& stanza, std::string_view type) {
  Element r(stanza.name());
  if (stanza.has_attr("id")) r.set_attr("id", std::string(stanza.attr("id")));
  if (stanza.has_attr("to")) r.set_attr("from", std::string(stanza.attr("to")));
  if (stanza.has_attr("from")) r.set_attr("to", std::string(stanza.attr("from")));
  r.set_attr("type", std::string(type));
  return r;
}
}  // namespace

Element make_error_reply(const Element& stanza, const StanzaError& err) {
  Element r = swapped_reply(stanza, "error");
  if (stanza.name() != "iq") {
    for (const auto& c : stanza.children())
      if (c.name() != "error") r.add_child(c);
  }
  r.add_child(err.to_element());
  return r;
}

Element make_iq_result(const Element& iq) {
  return swapped_reply(iq, "result");
}

std::string_view error_condition(const Element& stanza) {
  const Element* e = stanza.child("error");
  if (!e) return {};
  for (const auto& c : e->children())
    if (c.xmlns() == ns::stanzas && c.name() != "text") return c.name();
  return {};
}

}  // namespace salon
