// SPDX-License-Identifier: GPL-3.0-or-later
// The framer in front of gloox: what passes, what is held back, what is refused, and that
// the answer to a refused stanza can be addressed.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "xmpp/framer.hpp"

namespace salon::xmpp {
namespace {

constexpr std::string_view kHeader =
    "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
    "xmlns='jabber:component:accept' from='rooms.localhost' id='abc'>";

struct Fed {
  std::string out;
  std::vector<RefusedStanza> refused;
};

// Feeds `in` in pieces of `chunk` bytes (1: byte by byte), after the stream header.
Fed feed(StanzaFramer& f, std::string_view in, std::size_t chunk = 4096) {
  Fed r;
  for (std::size_t i = 0; i < in.size(); i += chunk)
    f.feed(in.substr(i, chunk), r.out, r.refused);
  return r;
}

Fed after_header(std::string_view in, StanzaLimits limits = {}, std::size_t chunk = 4096) {
  StanzaFramer f(limits);
  Fed h = feed(f, kHeader);
  EXPECT_EQ(h.out, kHeader);  // the header goes through as it comes
  return feed(f, in, chunk);
}

std::string nested(std::size_t levels) {
  std::string s;
  for (std::size_t i = 0; i < levels; ++i)
    s += "<a>";
  for (std::size_t i = 0; i < levels; ++i)
    s += "</a>";
  return s;
}

std::string message(std::string_view payload) {
  return "<message from='eve@localhost/x' to='nosuchroom@rooms.localhost' id='m1' "
         "type='groupchat'><body>hi</body>" +
         std::string(payload) + "</message>";
}

TEST(StanzaFramer, PassesStanzasWhole) {
  const std::string s = message("<x xmlns='urn:y' a=\"q'>\">t&amp;&lt;</x>") +
                        "<presence from='a@b/c' to='r@rooms.localhost/n'/>";
  for (std::size_t chunk : {1u, 2u, 7u, 4096u}) {
    Fed r = after_header(s, {}, chunk);
    EXPECT_EQ(r.out, s) << "chunk " << chunk;
    EXPECT_TRUE(r.refused.empty());
  }
}

TEST(StanzaFramer, HoldsAStanzaBackUntilItIsComplete) {
  StanzaFramer f;
  feed(f, kHeader);
  const std::string s = message("");
  Fed part = feed(f, std::string_view(s).substr(0, s.size() - 3));
  EXPECT_EQ(part.out, "");
  EXPECT_EQ(f.held_bytes(), s.size() - 3);
  Fed rest = feed(f, std::string_view(s).substr(s.size() - 3));
  EXPECT_EQ(rest.out, s);
  EXPECT_EQ(f.held_bytes(), 0u);
}

TEST(StanzaFramer, WhitespaceKeepalivesAndStreamEndPassAtOnce) {
  Fed r = after_header(" \n <handshake/> </stream:stream>");
  EXPECT_EQ(r.out, " \n <handshake/> </stream:stream>");
}

TEST(StanzaFramer, CommentsCdataAndPisDoNotConfuseTheDepth) {
  const std::string s =
      message("<!-- </message> <a> --><![CDATA[ </message> <b> ]]><?pi </message>?>");
  Fed r = after_header(s + message(""), {}, 3);
  EXPECT_EQ(r.out, s + message(""));
  EXPECT_TRUE(r.refused.empty());
}

TEST(StanzaFramer, ThirtyThousandLevelsAreRefusedWithTheirHead) {
  const std::string evil = message(nested(30000));
  StanzaLimits limits;
  Fed r = after_header(evil + message(""), limits, 1500);
  EXPECT_EQ(r.out, message(""));  // the next stanza is unharmed
  ASSERT_EQ(r.refused.size(), 1u);
  EXPECT_EQ(r.refused[0].why, Violation::depth);
  ASSERT_TRUE(r.refused[0].head);
  const Element& head = *r.refused[0].head;
  EXPECT_EQ(head.name(), "message");
  EXPECT_EQ(head.attr("from"), "eve@localhost/x");
  EXPECT_EQ(head.attr("to"), "nosuchroom@rooms.localhost");
  EXPECT_EQ(head.attr("id"), "m1");
  EXPECT_EQ(head.attr("type"), "groupchat");
  EXPECT_TRUE(head.children().empty());
}

TEST(StanzaFramer, DepthLimitIsExact) {
  StanzaLimits limits;
  limits.max_depth = 4;                               // message + 3 levels
  Fed ok = after_header(message(nested(2)), limits);  // message, a, a
  EXPECT_TRUE(ok.refused.empty());
  Fed ok3 = after_header(message(nested(3)), limits);  // depth 4
  EXPECT_TRUE(ok3.refused.empty());
  EXPECT_EQ(ok3.out, message(nested(3)));
  Fed over = after_header(message(nested(4)), limits);  // depth 5
  ASSERT_EQ(over.refused.size(), 1u);
  EXPECT_EQ(over.refused[0].why, Violation::depth);
  EXPECT_EQ(over.out, "");
}

TEST(StanzaFramer, BytesLimitKeepsMemoryBounded) {
  StanzaLimits limits;
  limits.max_bytes = 1000;
  StanzaFramer f(limits);
  feed(f, kHeader);
  std::string big = message(std::string(100000, 'x'));
  Fed r = feed(f, big, 512);
  EXPECT_LE(f.held_bytes(), 1000u);
  ASSERT_EQ(r.refused.size(), 1u);
  EXPECT_EQ(r.refused[0].why, Violation::bytes);
  ASSERT_TRUE(r.refused[0].head);  // the start tag was within the limit
  EXPECT_EQ(r.refused[0].head->attr("id"), "m1");
  EXPECT_EQ(r.out, "");
  Fed exact = after_header(message(""), {.max_bytes = message("").size()});
  EXPECT_TRUE(exact.refused.empty());
}

TEST(StanzaFramer, AStartTagOverTheBytesLimitLeavesNoHead) {
  StanzaLimits limits;
  limits.max_bytes = 64;
  Fed r = after_header("<message id='" + std::string(500, 'z') + "'><body/></message>", limits);
  ASSERT_EQ(r.refused.size(), 1u);
  EXPECT_FALSE(r.refused[0].head);
}

TEST(StanzaFramer, AttributeLimit) {
  StanzaLimits limits;
  limits.max_attributes = 3;
  Fed ok = after_header("<message a='1' b='2' c='='/>", limits);  // '=' in a value is not one
  EXPECT_TRUE(ok.refused.empty());
  Fed over = after_header(message("<x a='1' b='2' c='3' d='4'/>"), limits);
  ASSERT_EQ(over.refused.size(), 1u);
  EXPECT_EQ(over.refused[0].why, Violation::attributes);
  EXPECT_EQ(over.refused[0].head->attr("from"), "eve@localhost/x");
}

TEST(StanzaFramer, ResetForgetsAPartialStanza) {
  StanzaFramer f;
  feed(f, kHeader);
  feed(f, "<message to='a'><body>half");
  f.reset();
  Fed h = feed(f, kHeader);
  EXPECT_EQ(h.out, kHeader);
  Fed r = feed(f, message(""));
  EXPECT_EQ(r.out, message(""));
}

TEST(StanzaFramer, NewLimitsApplyToTheNextStanza) {
  StanzaFramer f;
  feed(f, kHeader);
  f.set_limits({.max_bytes = 10});
  Fed r = feed(f, message(""));
  ASSERT_EQ(r.refused.size(), 1u);
  EXPECT_EQ(f.limits().max_bytes, 10u);
}

}  // namespace
}  // namespace salon::xmpp
