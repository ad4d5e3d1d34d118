// SPDX-License-Identifier: GPL-3.0-or-later
// Jid parsing links with salon_core alone (no salon_xmpp, which links the core: that was a
// link-level cycle). This binary links only salon_core; it does not link if parsing needs the
// XMPP link's library again.
#include <gtest/gtest.h>

#include "core/jid.hpp"

namespace salon {
namespace {

TEST(JidLink, ParsesWithTheCoreAlone) {
  const auto j = Jid::parse("Alice@Example.COM/Phone");
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(j->str(), "alice@example.com/Phone");
  EXPECT_EQ(Jid::parse("a@b@c"), std::nullopt);
}

}  // namespace
}  // namespace salon
