// SPDX-License-Identifier: GPL-3.0-or-later
// Config files that load: minimal, full, plugin sections, the documented example; and which
// changes a SIGHUP reload cannot apply (restart_required).
#include "test_util.hpp"

#include <gmock/gmock.h>

#include <fstream>
#include <sstream>

namespace salon::config::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(ConfigLoad, MinimalFileGetsDefaults) {
  Config c = load_ok(minimal());
  EXPECT_EQ(c.path, "salon.toml");
  EXPECT_EQ(c.component.domain, "rooms.localhost");
  EXPECT_EQ(c.component.secret, kSecret);
  EXPECT_EQ(c.component.server_host, "127.0.0.1");
  EXPECT_EQ(c.component.server_port, 5347);
  EXPECT_EQ(c.component.keepalive_interval.count(), 10000);
  EXPECT_EQ(c.component.keepalive_timeout.count(), 20000);
  EXPECT_EQ(c.component.reconnect_initial.count(), 50);
  EXPECT_EQ(c.component.reconnect_max.count(), 500);
  EXPECT_EQ(c.component.max_stanza_bytes, 512u * 1024);
  EXPECT_EQ(c.component.max_stanza_depth, 32u);
  EXPECT_EQ(c.component.max_stanza_attributes, 64u);
  EXPECT_EQ(c.component.max_send_queue_bytes, 64u * 1024 * 1024);
  EXPECT_EQ(c.database.health_interval.count(), 1000);
  EXPECT_EQ(c.database.statement_timeout.count(), 30000);
  EXPECT_EQ(c.database.max_queued_queries, 10000u);
  EXPECT_EQ(c.http.listen_address, "127.0.0.1");
  EXPECT_EQ(c.http.listen_port, 8480);
  EXPECT_EQ(c.http.api_token, "");
  EXPECT_EQ(c.log.level, "info");
  EXPECT_EQ(c.log.format, LogFormat::text);
  EXPECT_EQ(c.muc.role_affiliations.size(), 3u);
  EXPECT_EQ(c.muc.role_affiliations.at("staff"), "owner");
  EXPECT_EQ(c.muc.max_stanza_bytes, 262144u);
  EXPECT_EQ(c.muc.idle_unload.count(), 300);
  EXPECT_THAT(c.plugins, IsEmpty());
}

TEST(ConfigLoad, FullFileSetsEveryKey) {
  Config c = load_ok(lines({
      "[component]",
      "domain = \"rooms.example.com\"",
      "server_host = \"xmpp.internal\"",
      "server_port = 15347",
      "secret = \"s3cret\"",
      "keepalive_interval_ms = 5000",
      "keepalive_timeout_ms = 15000",
      "reconnect_initial_ms = 50",
      "reconnect_max_ms = 50",
      "max_stanza_bytes = 65536",
      "max_stanza_depth = 64",
      "max_stanza_attributes = 16",
      "max_send_queue_bytes = 1048576",
      "[database]",
      "conninfo = \"host=db dbname=salon\"",
      "health_interval_ms = 2500",
      "statement_timeout_ms = 4000",
      "max_queued_queries = 12",
      "spool_dir = \"/var/lib/salon/spool\"",
      "[http]",
      "listen = \"[::1]:9000\"",
      "api_token = \"tok\"",
      "[log]",
      "level = \"debug\"",
      "format = \"json\"",
      "[muc]",
      "members_can_change_subject = false",
      "allow_private_messages = false",
      "max_stanza_bytes = 1000",
      "max_body_chars = 500",
      "max_occupants = 7",
      "max_nick_chars = 20",
      "messages_per_second = 2",
      "message_burst = 4.5",
      "idle_unload_seconds = 60",
      "[muc.role_affiliations]",
      "buyer = \"member\"",
      "seller = \"admin\"",
      "banned = \"none\"",
  }));
  EXPECT_EQ(c.component.domain, "rooms.example.com");
  EXPECT_EQ(c.component.server_host, "xmpp.internal");
  EXPECT_EQ(c.component.server_port, 15347);
  EXPECT_EQ(c.component.secret, "s3cret");
  EXPECT_EQ(c.component.keepalive_interval.count(), 5000);
  EXPECT_EQ(c.component.keepalive_timeout.count(), 15000);
  EXPECT_EQ(c.component.reconnect_initial.count(), 50);
  EXPECT_EQ(c.component.reconnect_max.count(), 50);
  EXPECT_EQ(c.component.max_stanza_bytes, 65536u);
  EXPECT_EQ(c.component.max_stanza_depth, 64u);
  EXPECT_EQ(c.component.max_stanza_attributes, 16u);
  EXPECT_EQ(c.component.max_send_queue_bytes, 1048576u);
  EXPECT_EQ(c.database.conninfo, "host=db dbname=salon");
  EXPECT_EQ(c.database.health_interval.count(), 2500);
  EXPECT_EQ(c.database.statement_timeout.count(), 4000);
  EXPECT_EQ(c.database.max_queued_queries, 12u);
  EXPECT_EQ(c.database.spool_dir, "/var/lib/salon/spool");
  EXPECT_EQ(c.http.listen_address, "::1");
  EXPECT_EQ(c.http.listen_port, 9000);
  EXPECT_EQ(c.http.api_token, "tok");
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.log.format, LogFormat::json);
  EXPECT_FALSE(c.muc.members_can_change_subject);
  EXPECT_FALSE(c.muc.allow_private_messages);
  EXPECT_EQ(c.muc.max_stanza_bytes, 1000u);
  EXPECT_EQ(c.muc.max_body_chars, 500u);
  EXPECT_EQ(c.muc.max_occupants, 7u);
  EXPECT_EQ(c.muc.max_nick_chars, 20u);
  EXPECT_DOUBLE_EQ(c.muc.messages_per_second, 2.0);  // an integer is fine for a float key
  EXPECT_DOUBLE_EQ(c.muc.message_burst, 4.5);
  EXPECT_EQ(c.muc.idle_unload.count(), 60);
  // The table replaces the default mapping as a whole.
  EXPECT_EQ(c.muc.role_affiliations,
            (std::map<std::string, std::string>{
                {"banned", "none"}, {"buyer", "member"}, {"seller", "admin"}}));
}

TEST(ConfigLoad, DottedKeysAndInlineTablesWork) {
  Config c = load_ok(lines({"component = { domain = \"rooms.localhost\", secret = \"x\" }",
                            "database.conninfo = \"x\"", "log.level = \"warn\""}));
  EXPECT_EQ(c.component.domain, "rooms.localhost");
  EXPECT_EQ(c.log.level, "warn");
}

TEST(ConfigLoad, PluginSectionsKeepSettingsWithLines) {
  Config c = load_ok(minimal() + lines({
                                     "[plugins.archive]",          // 6
                                     "enabled = true",             // 7
                                     "retention_days = 365",       // 8
                                     "ratio = 0.5",                // 9
                                     "store = \"postgresql\"",     // 10
                                     "compress = false",           // 11
                                     "rooms = [\"a\", \"b\"]",     // 12
                                     "empty = []",                 // 13
                                     "[plugins.notify]",           // 14
                                     "smtp_host = \"127.0.0.1\"",  // 15
                                 }));
  ASSERT_EQ(c.plugins.size(), 2u);
  const PluginSection& a = c.plugins.at("archive");
  EXPECT_TRUE(a.enabled);
  EXPECT_EQ(a.line, 6);
  EXPECT_EQ(a.settings.count("enabled"), 0u);
  ASSERT_EQ(a.settings.size(), 6u);
  EXPECT_EQ(std::get<std::int64_t>(a.settings.at("retention_days").value), 365);
  EXPECT_EQ(a.settings.at("retention_days").line, 8);
  EXPECT_DOUBLE_EQ(std::get<double>(a.settings.at("ratio").value), 0.5);
  EXPECT_EQ(std::get<std::string>(a.settings.at("store").value), "postgresql");
  EXPECT_EQ(std::get<bool>(a.settings.at("compress").value), false);
  EXPECT_EQ(a.settings.at("compress").line, 11);
  EXPECT_THAT(std::get<std::vector<std::string>>(a.settings.at("rooms").value),
              ElementsAre("a", "b"));
  EXPECT_EQ(a.settings.at("rooms").line, 12);
  EXPECT_THAT(std::get<std::vector<std::string>>(a.settings.at("empty").value), IsEmpty());
  const PluginSection& n = c.plugins.at("notify");
  EXPECT_FALSE(n.enabled);  // default
  EXPECT_EQ(n.line, 14);
  EXPECT_EQ(std::get<std::string>(n.settings.at("smtp_host").value), "127.0.0.1");
}

TEST(ConfigLoad, DocumentedExampleLoads) {
  Result r = load_file(SALON_EXAMPLE_CONFIG);
  ASSERT_TRUE(r.config) << r.error->str();
  EXPECT_EQ(r.config->component.domain, "rooms.localhost");
  EXPECT_EQ(r.config->http.listen_port, 8480);
  // The example documents every plugin salond has, and only those (it refuses a section
  // naming a plugin it lacks): archive and markers enabled, email documented but off (it
  // needs an SMTP server and a link secret of the operator's).
  ASSERT_EQ(r.config->plugins.size(), 3u);
  EXPECT_TRUE(r.config->plugins.at("archive").enabled);
  EXPECT_TRUE(r.config->plugins.at("markers").enabled);
  EXPECT_FALSE(r.config->plugins.at("email").enabled);
}

// Every key the schema accepts is documented in the example, set or commented out. The list is
// checked against the schema too: each key set on its own must load.
TEST(ConfigLoad, DocumentedExampleMentionsEveryKey) {
  const std::vector<std::pair<std::string, std::string>> samples{
      {"component.domain", "\"a.b\""},
      {"component.server_host", "\"h\""},
      {"component.server_port", "1"},
      {"component.secret", "\"s\""},
      {"component.secret_env", "\"HOME\""},
      {"component.secret_file", "\"" SALON_EXAMPLE_CONFIG "\""},
      {"component.keepalive_interval_ms", "5"},
      {"component.keepalive_timeout_ms", "30000"},
      {"component.reconnect_initial_ms", "5"},
      {"component.reconnect_max_ms", "5000"},
      {"database.conninfo", "\"c\""},
      {"database.conninfo_env", "\"HOME\""},
      {"database.health_interval_ms", "5"},
      {"http.listen", "\"127.0.0.1:1\""},
      {"http.api_token", "\"t\""},
      {"http.api_token_env", "\"HOME\""},
      {"http.api_token_file", "\"" SALON_EXAMPLE_CONFIG "\""},
      {"log.level", "\"error\""},
      {"log.format", "\"json\""},
      {"muc.members_can_change_subject", "true"},
      {"muc.allow_private_messages", "true"},
      {"muc.max_stanza_bytes", "5"},
      {"muc.max_body_chars", "5"},
      {"muc.max_occupants", "5"},
      {"muc.max_nick_chars", "5"},
      {"muc.messages_per_second", "5"},
      {"muc.message_burst", "5"},
      {"muc.idle_unload_seconds", "5"},
      {"muc.max_presence_bytes", "5"},
      {"muc.presences_per_second", "0.5"},
      {"muc.presence_burst", "5"},
      {"muc.max_forwarded_iqs_per_occupant", "5"},
      {"muc.max_forwarded_iqs_per_room", "5"},
      {"muc.jid_cache_bytes", "5"},
      {"muc.missing_room_cache_ms", "5"},
      {"muc.missing_room_cache_entries", "5"},
      {"muc.max_queued_while_loading", "5"},
      {"muc.role_affiliations.client", "\"member\""},
      {"plugins.archive.enabled", "true"},
  };
  std::ifstream in(SALON_EXAMPLE_CONFIG);
  std::stringstream text;
  text << in.rdbuf();
  const std::string example = text.str();
  for (const auto& [key, value] : samples) {
    std::string name = key.substr(key.rfind('.') + 1);
    bool set = example.find("\n" + name + " = ") != std::string::npos;
    bool commented = example.find("\n# " + name + " = ") != std::string::npos;
    EXPECT_TRUE(set || commented) << key << " is not documented in the example";
    // Dotted keys at the top level let each document set exactly one key beside the required.
    std::string doc;
    if (key != "component.domain") doc += "component.domain = \"a.b\"\n";
    if (!key.starts_with("component.secret")) doc += "component.secret = \"x\"\n";
    if (!key.starts_with("database.conninfo")) doc += "database.conninfo = \"x\"\n";
    doc += key + " = " + value + "\n";
    Result r = load_string(doc);
    EXPECT_TRUE(r.config) << key << ": " << (r.error ? r.error->str() : "");
  }
  for (const char* table : {"[component]", "[database]", "[http]", "[log]", "[muc]",
                            "[muc.role_affiliations]", "[plugins."})
    EXPECT_NE(example.find(table), std::string::npos) << table;
}

Config reloadable_base() {
  return load_ok(minimal());
}

TEST(ConfigReload, NothingChangedNeedsNoRestart) {
  EXPECT_THAT(restart_required(reloadable_base(), reloadable_base()), IsEmpty());
}

TEST(ConfigReload, LiveSettingsNeedNoRestart) {
  Config a = reloadable_base();
  Config b = a;
  b.log.level = "debug";
  b.log.format = LogFormat::json;
  b.muc.max_occupants = 3;
  b.muc.role_affiliations["x"] = "admin";
  b.http.api_token = "new";
  b.database.health_interval = std::chrono::milliseconds(5);
  b.component.keepalive_interval = std::chrono::milliseconds(1);
  b.plugins["archive"].enabled = true;
  b.plugins["archive"].settings["days"] = Setting{std::int64_t{3}, 9};
  EXPECT_THAT(restart_required(a, b), IsEmpty());
}

TEST(ConfigReload, RestartKeys) {
  Config a = reloadable_base();
  Config b = a;
  b.component.domain = "other.localhost";
  b.component.server_host = "10.0.0.1";
  b.component.server_port = 1;
  b.component.secret = "changed";
  b.database.conninfo = "host=elsewhere";
  b.http.listen_port = 9999;
  EXPECT_THAT(restart_required(a, b),
              ElementsAre("component.domain", "component.server_host", "component.server_port",
                          "component.secret", "database.conninfo", "http.listen"));
  Config c = a;
  c.http.listen_address = "0.0.0.0";
  EXPECT_THAT(restart_required(a, c), ElementsAre("http.listen"));
}

TEST(ConfigReload, ChangedSecretFileContentNeedsRestart) {
  TempDir dir;
  dir.write("s", "one\n");
  auto cfg =
      dir.write("salon.toml", lines({"[component]", "domain = \"rooms.localhost\"",
                                     "secret_file = \"s\"", "[database]", "conninfo = \"x\""}));
  Result first = load_file(cfg.string());
  ASSERT_TRUE(first.config);
  dir.write("s", "two\n");
  Result second = load_file(cfg.string());
  ASSERT_TRUE(second.config);
  EXPECT_THAT(restart_required(*first.config, *second.config), ElementsAre("component.secret"));
}

}  // namespace
}  // namespace salon::config::test
