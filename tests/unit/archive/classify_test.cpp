// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "classify.hpp"
#include "core/xml_parse.hpp"

namespace salon::archive {
namespace {

std::optional<Classified> of(std::string_view xml) {
  auto e = parse_xml(xml);
  EXPECT_TRUE(e) << xml;
  return classify(*e);
}

TEST(Classify, BodyIsAMessageWithItsIds) {
  auto c = of("<message id='m1' type='groupchat'><body>hi</body></message>");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, Kind::message);
  EXPECT_TRUE(c->has_body);
  EXPECT_EQ(c->body, "hi");
  EXPECT_EQ(c->msg_id, "m1");
  c = of("<message id='m1'><body>hi</body><origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message>");
  EXPECT_EQ(c->msg_id, "o1");  // XEP-0359: origin-id is the sender's own id
}

TEST(Classify, CorrectionIsLinkedByTheCorrectedId) {
  auto c =
      of("<message><body>fixed</body>"
         "<replace xmlns='urn:xmpp:message-correct:0' id='m1'/></message>");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, Kind::correction);
  EXPECT_EQ(c->replaces, "m1");
  EXPECT_EQ(c->body, "fixed");
}

TEST(Classify, RetractionKeepsNoSearchText) {
  auto c =
      of("<message><retract xmlns='urn:xmpp:message-retract:1' id='sid-9'/>"
         "<body>This person attempted to retract a previous message</body></message>");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, Kind::retraction);
  EXPECT_EQ(c->replaces, "sid-9");
  EXPECT_FALSE(c->has_body);
}

TEST(Classify, OobOnlyAndReactionsAreStored) {
  auto c = of("<message><x xmlns='jabber:x:oob'><url>https://x/y.png</url></x></message>");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, Kind::message);
  EXPECT_FALSE(c->has_body);
  EXPECT_TRUE(
      of("<message><reactions xmlns='urn:xmpp:reactions:0' id='a'>"
         "<reaction>x</reaction></reactions></message>"));
}

TEST(Classify, TransientPayloadsAreNotStored) {
  EXPECT_FALSE(of("<message><composing xmlns='http://jabber.org/protocol/chatstates'/></message>"));
  EXPECT_FALSE(of("<message><received xmlns='urn:xmpp:receipts' id='a'/></message>"));
  EXPECT_FALSE(of("<message><displayed xmlns='urn:xmpp:chat-markers:0' id='a'/></message>"));
  // A correction needs a body; without one it is nothing to store.
  EXPECT_FALSE(of("<message><replace xmlns='urn:xmpp:message-correct:0' id='m1'/></message>"));
}

}  // namespace
}  // namespace salon::archive
