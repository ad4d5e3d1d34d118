// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "email.hpp"

namespace salon::email {
namespace {

Element message(std::string_view body) {
  Element m("message");
  m.set_attr("type", "groupchat");
  if (!body.empty() || body.data() != nullptr) m.add_child("body").set_text(std::string(body));
  return m;
}

TEST(Notifiable, ABodyIsNews) {
  EXPECT_TRUE(notifiable(message("hello")));
}

TEST(Notifiable, NothingToReadIsNot) {
  Element state("message");
  state.add_child("composing", "http://jabber.org/protocol/chatstates");
  EXPECT_FALSE(notifiable(state));
  EXPECT_FALSE(notifiable(message(" \n\t")));
  Element marker("message");
  marker.add_child("displayed", "urn:xmpp:chat-markers:0").set_attr("id", "x");
  EXPECT_FALSE(notifiable(marker));
  Element reaction("message");
  reaction.add_child("reactions", "urn:xmpp:reactions:0").set_attr("id", "x");
  EXPECT_FALSE(notifiable(reaction));
}

TEST(Notifiable, CorrectionsAndRetractionsAreNot) {
  Element fix = message("hello, fixed");
  fix.add_child("replace", "urn:xmpp:message-correct:0").set_attr("id", "m1");
  EXPECT_FALSE(notifiable(fix));
  Element gone = message("This person attempted to retract a previous message");
  gone.add_child("retract", "urn:xmpp:message-retract:1").set_attr("id", "s1");
  EXPECT_FALSE(notifiable(gone));
}

}  // namespace
}  // namespace salon::email
