// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/stanza.hpp"

#include <gtest/gtest.h>

namespace salon {
namespace {

TEST(Stanza, ErrorReplySwapsAddressesAndKeepsId) {
  Element iq("iq");
  iq.set_attr("from", "u@h/r");
  iq.set_attr("to", "room@rooms.h");
  iq.set_attr("id", "q1");
  iq.set_attr("type", "get");
  iq.add_child("query", "urn:x");
  const Element r = make_error_reply(iq, errors::item_not_found("no such room"));
  EXPECT_EQ(r.xml(),
            "<iq id='q1' from='room@rooms.h' to='u@h/r' type='error'><error type='cancel'>"
            "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
            "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>no such room</text></error></iq>");
}

TEST(Stanza, MessageErrorKeepsPayload) {
  Element m("message");
  m.set_attr("from", "u@h/r");
  m.set_attr("to", "room@rooms.h");
  m.set_attr("type", "groupchat");
  m.add_child("body").set_text("hi");
  const Element r = make_error_reply(m, errors::not_acceptable());
  EXPECT_EQ(r.attr("type"), "error");
  EXPECT_EQ(r.child_text("body"), "hi");
  EXPECT_EQ(error_condition(r), "not-acceptable");
  EXPECT_EQ(r.child("error")->attr("type"), "cancel");
}

TEST(Stanza, ErrorWithByAndAppCondition) {
  StanzaError e = errors::not_acceptable();
  e.by = "room@rooms.h";
  e.app_condition = Element("conflicting-fields", "urn:x");
  const Element x = e.to_element();
  EXPECT_EQ(x.attr("by"), "room@rooms.h");
  EXPECT_NE(x.child("conflicting-fields", "urn:x"), nullptr);
}

TEST(Stanza, ConditionTypes) {
  EXPECT_EQ(errors::forbidden().type, ErrorType::auth);
  EXPECT_EQ(errors::registration_required().type, ErrorType::auth);
  EXPECT_EQ(errors::bad_request().type, ErrorType::modify);
  EXPECT_EQ(errors::jid_malformed().type, ErrorType::modify);
  EXPECT_EQ(errors::service_unavailable().type, ErrorType::cancel);
  EXPECT_EQ(errors::resource_constraint().type, ErrorType::wait);
}

}  // namespace
}  // namespace salon
