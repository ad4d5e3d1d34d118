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

TEST(Ids, Uuid4Format) {
  const auto a = uuid4();
  const auto b = uuid4();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[8], '-');
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos);
}

TEST(Ids, Uuid7CarriesTheTimeAndSortsInOrder) {
  using namespace std::chrono;
  // 2026-11-28T12:00:00.123456Z: 0x01a22206ca7b ms, then 456 µs = 0x1c8 in rand_a.
  const system_clock::time_point t{microseconds(1795867200123456)};
  const auto a = uuid7(t);
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a.substr(0, 19), "01a22206-ca7b-71c8-");
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos);
  EXPECT_NE(a, uuid7(t));  // same microsecond: the random bits differ
  std::string prev = uuid7(t);
  for (int step : {1, 999, 1000, 1001, 86'400'000}) {
    const auto next = uuid7(t + microseconds(step));
    EXPECT_LT(prev, next) << step;
    prev = next;
  }
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
