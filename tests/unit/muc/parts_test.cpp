// SPDX-License-Identifier: GPL-3.0-or-later
// Small parts: the XML parser used for restore, ids, the token bucket, character counting.
#include "harness.hpp"

#include "muc/limits.hpp"

namespace salon::muc::test {
namespace {

TEST(XmlParse, RoundTripsElementXml) {
  Element e("presence");
  e.set_attr("a", "x'y\"<&>");
  e.add_child("status").set_text("caf\xC3\xA9 & <tea>");
  e.add_child("c", "http://jabber.org/protocol/caps").set_attr("ver", "1");
  auto back = parse_xml(e.xml());
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, e);
}

TEST(XmlParse, AcceptsDoubleQuotesEntitiesAndWhitespace) {
  auto e = parse_xml("<?xml version='1.0'?>\n<a x=\"1\">\n  <b>&#65;&#x42;</b>\n</a>");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->attr("x"), "1");
  EXPECT_EQ(e->child_text("b"), "AB");
  EXPECT_EQ(e->text(), "");
}

TEST(XmlParse, RejectsMalformed) {
  for (const char* bad :
       {"", "<a>", "<a></b>", "<a x=1/>", "<a>&bogus;</a>", "<a/><b/>", "text", "<a x='1' x2/>"})
    EXPECT_FALSE(parse_xml(bad)) << bad;
}

TEST(Ids, OccupantIdIsStableKeyedAndUrlSafe) {
  const auto a = occupant_id("k", "r@s", "u@h");
  EXPECT_EQ(a, occupant_id("k", "r@s", "u@h"));
  EXPECT_NE(a, occupant_id("k2", "r@s", "u@h"));
  EXPECT_NE(a, occupant_id("k", "r2@s", "u@h"));
  EXPECT_EQ(a.size(), 43u);
  EXPECT_EQ(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
}

TEST(TokenBucket, BurstThenRate) {
  TokenBucket t;
  const auto t0 = TokenBucket::Clock::now();
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(t.take(2.0, 3.0, t0));
  EXPECT_FALSE(t.take(2.0, 3.0, t0));
  EXPECT_TRUE(t.take(2.0, 3.0, t0 + std::chrono::milliseconds(500)));
  EXPECT_FALSE(t.take(2.0, 3.0, t0 + std::chrono::milliseconds(600)));
  EXPECT_TRUE(t.take(2.0, 3.0, t0 + std::chrono::seconds(10)));
}

}  // namespace
}  // namespace salon::muc::test
