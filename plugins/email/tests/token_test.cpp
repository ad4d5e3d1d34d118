// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "token.hpp"

namespace salon::email {
namespace {

constexpr std::string_view kSecret = "a-link-secret-of-some-length";

TEST(UnsubscribeToken, VerifiesForItsMemberOnly) {
  const auto t = unsubscribe_token(kSecret, "alice@example.com");
  EXPECT_EQ(t.size(), 43u);  // 32 bytes, base64url without padding
  EXPECT_TRUE(unsubscribe_token_ok(kSecret, "alice@example.com", t));
  EXPECT_FALSE(unsubscribe_token_ok(kSecret, "bob@example.com", t));  // another member's
  EXPECT_FALSE(unsubscribe_token_ok("another-secret-entirely", "alice@example.com", t));
  std::string forged = t;
  forged[5] = forged[5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(unsubscribe_token_ok(kSecret, "alice@example.com", forged));
  EXPECT_FALSE(unsubscribe_token_ok(kSecret, "alice@example.com", ""));
  EXPECT_FALSE(unsubscribe_token_ok(kSecret, "alice@example.com", t.substr(0, 42)));
}

TEST(UnsubscribeToken, KnownVector) {
  // HMAC-SHA256("key", "salon-unsubscribe/1\nu@h"), checked with Python's hmac module.
  EXPECT_EQ(unsubscribe_token("key", "u@h"), "Sp1IMzIWEgP2hv1aHg716MXbbAEbf_eSM5aiO7sDZOw");
}

TEST(UnsubscribeToken, UrlEscapesTheJid) {
  const auto url = unsubscribe_url("https://chat.example.com", kSecret, "a+b@example.com");
  EXPECT_TRUE(
      url.starts_with("https://chat.example.com/email/unsubscribe?jid=a%2Bb%40example.com&token="))
      << url;
  EXPECT_EQ(percent_encode("a b/é"), "a%20b%2F%C3%A9");
}

}  // namespace
}  // namespace salon::email
