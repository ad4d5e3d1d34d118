// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <cstdlib>

#include "settings.hpp"

namespace salon::email {
namespace {

using config::PluginSection;
using config::Setting;

PluginSection minimal() {
  PluginSection s;
  s.enabled = true;
  s.line = 10;
  s.settings["from_address"] = Setting{std::string("salon@example.com"), 11};
  s.settings["public_url"] = Setting{std::string("https://chat.example.com/"), 12};
  s.settings["link_secret"] = Setting{std::string("0123456789abcdef0123"), 13};
  return s;
}

std::string error_of(const PluginSection& s) {
  auto r = read_settings(s);
  auto* e = std::get_if<std::string>(&r);
  return e ? *e : "";
}

TEST(EmailSettings, DefaultsAreTheDocumentedOnes) {
  auto r = read_settings(minimal());
  ASSERT_TRUE(std::holds_alternative<Settings>(r)) << std::get<std::string>(r);
  const auto& s = std::get<Settings>(r);
  EXPECT_EQ(s.delay, std::chrono::minutes(5));
  EXPECT_EQ(s.smtp_tls, SmtpTls::starttls);             // never plain text unless said
  EXPECT_EQ(s.public_url, "https://chat.example.com");  // trailing slash dropped
  ASSERT_EQ(s.throttle.size(), 4u);
  EXPECT_EQ(s.throttle[0], std::chrono::minutes(15));
  EXPECT_EQ(s.throttle_reset, std::chrono::hours(24));
}

TEST(EmailSettings, ErrorsNameTheKeyAndItsLine) {
  auto s = minimal();
  s.settings["delay_seconds"] = Setting{std::string("5m"), 20};
  EXPECT_EQ(error_of(s), "line 20: key 'plugins.email.delay_seconds': expected an integer");
  s = minimal();
  s.settings["smtp_ur"] = Setting{std::string("smtp://x"), 21};
  EXPECT_EQ(error_of(s), "line 21: key 'plugins.email.smtp_ur': unknown key");
  s = minimal();
  s.settings["throttle"] = Setting{std::vector<std::string>{"15m", "soon"}, 22};
  EXPECT_EQ(error_of(s),
            "line 22: key 'plugins.email.throttle': 'soon' is not a duration like 15m");
  s = minimal();
  s.settings.erase("link_secret");
  EXPECT_EQ(error_of(s),
            "line 10: key 'plugins.email.link_secret': missing: set link_secret, link_secret_env "
            "or link_secret_file");
}

TEST(EmailSettings, HeaderInjectionInConfigIsRefused) {
  auto s = minimal();
  s.settings["from_name"] = Setting{std::string("salon\r\nBcc: x@evil.example"), 30};
  EXPECT_EQ(error_of(s),
            "line 30: key 'plugins.email.from_name': control characters are not allowed");
  s = minimal();
  s.settings["from_address"] = Setting{std::string("a@b.c, d@e.f"), 31};
  EXPECT_EQ(error_of(s),
            "line 31: key 'plugins.email.from_address': not an address like salon@example.com");
}

TEST(EmailSettings, TlsMustMatchTheUrl) {
  auto s = minimal();
  s.settings["smtp_url"] = Setting{std::string("smtps://mail.example.com"), 40};
  EXPECT_NE(error_of(s).find("smtp_tls"), std::string::npos);
  s.settings["smtp_tls"] = Setting{std::string("implicit"), 41};
  EXPECT_EQ(error_of(s), "");
  s = minimal();
  s.settings["smtp_tls"] = Setting{std::string("maybe"), 42};
  EXPECT_EQ(error_of(s),
            "line 42: key 'plugins.email.smtp_tls': one of \"starttls\", \"implicit\", \"none\"");
}

TEST(EmailSettings, SecretsComeFromOneOfThreePlaces) {
  auto s = minimal();
  s.settings.erase("link_secret");
  s.settings["link_secret_env"] = Setting{std::string("SALON_TEST_LINK_SECRET"), 50};
  ::setenv("SALON_TEST_LINK_SECRET", "from-the-environment-123", 1);
  auto r = read_settings(s);
  ASSERT_TRUE(std::holds_alternative<Settings>(r)) << std::get<std::string>(r);
  EXPECT_EQ(std::get<Settings>(r).link_secret, "from-the-environment-123");
  s.settings["link_secret"] = Setting{std::string("0123456789abcdef0123"), 51};
  EXPECT_EQ(error_of(s),
            "line 50: key 'plugins.email.link_secret_env': give only one of link_secret, "
            "link_secret_env and link_secret_file");
  s = minimal();
  s.settings["link_secret"] = Setting{std::string("short"), 52};
  EXPECT_EQ(error_of(s), "line 52: key 'plugins.email.link_secret': at least 16 characters");
}

TEST(EmailSettings, Durations) {
  EXPECT_EQ(parse_duration("90s"), std::chrono::seconds(90));
  EXPECT_EQ(parse_duration("15m"), std::chrono::minutes(15));
  EXPECT_EQ(parse_duration("2d"), std::chrono::hours(48));
  EXPECT_FALSE(parse_duration("15"));
  EXPECT_FALSE(parse_duration("-1m"));
  EXPECT_FALSE(parse_duration("1.5h"));
  EXPECT_FALSE(parse_duration("m"));
}

TEST(EmailSettings, Addresses) {
  EXPECT_TRUE(valid_address("bob@example.com"));
  EXPECT_TRUE(valid_address("bob+tag@sub.example.com"));
  EXPECT_FALSE(valid_address("bob"));
  EXPECT_FALSE(valid_address("bob@"));
  EXPECT_FALSE(valid_address("<bob@example.com>"));
  EXPECT_FALSE(valid_address("bob@example.com\r\nRCPT TO:<x@y>"));
  EXPECT_FALSE(valid_address("a b@example.com"));
  EXPECT_FALSE(valid_address("a@b@example.com"));
}

}  // namespace
}  // namespace salon::email

namespace salon::email {
namespace {

// deploy/salon.example.toml documents every email key with a valid value (the link secret is a
// file there: given inline here).
TEST(EmailSettings, TheDocumentedExampleIsValid) {
  const config::Result r = config::load_file(SALON_EXAMPLE_CONFIG);
  ASSERT_TRUE(r.config) << r.error->str();
  config::PluginSection section = r.config->plugins.at("email");
  ASSERT_TRUE(section.settings.count("link_secret_file"));
  section.settings.erase("link_secret_file");
  section.settings["link_secret"] = config::Setting{std::string("0123456789abcdef"), 1};
  const auto s = read_settings(section);
  ASSERT_TRUE(std::holds_alternative<Settings>(s)) << std::get<std::string>(s);
  const Settings& e = std::get<Settings>(s);
  EXPECT_EQ(e.delay, std::chrono::minutes(5));
  EXPECT_EQ(e.smtp_tls, SmtpTls::starttls);
  for (const char* key :
       {"smtp_url", "smtp_tls", "connect_timeout_ms", "send_timeout_ms", "from_address",
        "from_name", "delay_seconds", "throttle", "throttle_reset", "max_messages_per_room",
        "max_excerpt_chars", "project_url", "public_url", "retry_initial_seconds",
        "retry_max_seconds", "give_up_after_seconds", "poll_interval_ms", "claim_batch", "senders"})
    EXPECT_TRUE(section.settings.count(key)) << key << " is not documented";
}

}  // namespace
}  // namespace salon::email
