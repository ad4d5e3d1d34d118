// SPDX-License-Identifier: GPL-3.0-or-later
#include "classify.hpp"

namespace salon::archive {

std::string_view to_string(Kind k) {
  switch (k) {
    case Kind::message: return "message";
    case Kind::subject: return "subject";
    case Kind::correction: return "correction";
    case Kind::retraction: return "retraction";
  }
  return "message";
}

std::optional<Classified> classify(const Element& m) {
  Classified c;
  if (const Element* origin = m.child("origin-id", ns::sid); origin && origin->has_attr("id"))
    c.msg_id = std::string(origin->attr("id"));
  else
    c.msg_id = std::string(m.attr("id"));
  const Element* body = m.child("body");
  if (body) {
    c.has_body = true;
    c.body = body->text();
  }

  if (const Element* r = m.child("retract", ns::retract); r && !r->attr("id").empty()) {
    c.kind = Kind::retraction;
    c.replaces = std::string(r->attr("id"));
    c.has_body = false;  // a fallback body ("retracted a message") is not content worth searching
    return c;
  }
  if (const Element* r = m.child("replace", ns::correct); r && !r->attr("id").empty() && body) {
    c.kind = Kind::correction;
    c.replaces = std::string(r->attr("id"));
    return c;
  }
  if (body) return c;
  if (m.child("subject")) {
    c.kind = Kind::subject;
    return c;
  }
  if (m.child("x", ns::oob) || m.child("reactions", ns::reactions)) return c;
  return std::nullopt;  // chat states, receipts, markers: transient
}

}  // namespace salon::archive
