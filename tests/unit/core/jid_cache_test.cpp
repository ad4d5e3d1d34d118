// SPDX-License-Identifier: GPL-3.0-or-later
// The JID cache is bounded by bytes (issue 12 §2): long invalid strings, which any peer can
// put in a JID attribute, once filled a count-bounded cache (65,536 entries of any size).
#include "core/jid_cache.hpp"

#include <gtest/gtest.h>

#include <string>

namespace salon {
namespace {

int g_parses = 0;
std::optional<Jid> counting_parse(std::string_view s) {
  ++g_parses;
  return Jid::parse(s);
}

TEST(JidCache, AnswersRepeatsFromTheCache) {
  JidCache cache(1 << 20);
  g_parses = 0;
  EXPECT_EQ(cache.get("alice@example.com/web", counting_parse)->str(), "alice@example.com/web");
  EXPECT_EQ(cache.get("alice@example.com/web", counting_parse)->str(), "alice@example.com/web");
  EXPECT_FALSE(cache.get("a@b@c", counting_parse));
  EXPECT_FALSE(cache.get("a@b@c", counting_parse));
  EXPECT_EQ(g_parses, 2);
  EXPECT_EQ(cache.size(), 2u);
}

TEST(JidCache, LongInvalidStringsStayWithinTheByteBudget) {
  constexpr std::size_t kBudget = 64 * 1024;
  JidCache cache(kBudget);
  for (int i = 0; i < 2000; ++i) {
    // Invalid (a space in the domain) and 3,000 bytes: under the longest possible JID.
    const std::string s = std::to_string(i) + " " + std::string(3000, 'x');
    EXPECT_FALSE(cache.get(s, counting_parse));
    ASSERT_LE(cache.bytes(), kBudget) << i;
  }
  EXPECT_LT(cache.size(), kBudget / 3000 + 1);
}

TEST(JidCache, LongerThanAnyJidIsRefusedWithoutParsingOrCaching) {
  JidCache cache(1 << 20);
  g_parses = 0;
  const std::string s(kMaxJidBytes + 1, 'a');
  EXPECT_FALSE(cache.get(s, counting_parse));
  EXPECT_EQ(g_parses, 0);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(Jid::parse(std::string(200 * 1024, 'a')));
}

TEST(JidCache, AnEntryOverTheBudgetIsAnsweredNotCached) {
  JidCache cache(100);
  EXPECT_TRUE(cache.get("alice@example.com", counting_parse));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(JidCache, AShrunkBudgetEmptiesIt) {
  JidCache cache(1 << 20);
  for (int i = 0; i < 100; ++i)
    cache.get("u" + std::to_string(i) + "@example.com", counting_parse);
  EXPECT_EQ(cache.size(), 100u);
  cache.set_budget(1000);
  EXPECT_LE(cache.bytes(), 1000u);
}

}  // namespace
}  // namespace salon
