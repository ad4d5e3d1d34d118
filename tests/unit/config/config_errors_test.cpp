// SPDX-License-Identifier: GPL-3.0-or-later
// Config validation: every kind of error names the dotted key and its line.
#include "test_util.hpp"

#include <gmock/gmock.h>

namespace salon::config::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(ConfigErrors, UnknownKeyNamesDottedKeyAndLine) {
  Error e =
      load_error(minimal() + lines({"[http]", "listen = \"127.0.0.1:8480\"", "lisen = \"x\""}));
  EXPECT_EQ(e.key, "http.lisen");
  EXPECT_EQ(e.line, 8);
  EXPECT_THAT(e.message, StartsWith("unknown key"));
  EXPECT_THAT(e.message, HasSubstr("listen"));  // the known keys help spot the typo
  EXPECT_THAT(e.str(), StartsWith("salon.toml:8: key 'http.lisen': unknown key"));
}

TEST(ConfigErrors, UnknownTopLevelKey) {
  Error e = load_error(lines({"domain = \"rooms.localhost\""}) + minimal());
  EXPECT_EQ(e.key, "domain");
  EXPECT_EQ(e.line, 1);
}

TEST(ConfigErrors, UnknownTable) {
  Error e = load_error(minimal() + lines({"", "[databse]", "health_interval_ms = 5"}));
  EXPECT_EQ(e.key, "databse");
  EXPECT_EQ(e.line, 7);
  EXPECT_THAT(e.message, StartsWith("unknown table"));
}

TEST(ConfigErrors, UnknownNestedTable) {
  Error e = load_error(minimal() + lines({"[muc.limits]", "x = 1"}));
  EXPECT_EQ(e.key, "muc.limits");
  EXPECT_EQ(e.line, 6);
  EXPECT_THAT(e.message, StartsWith("unknown table"));
}

TEST(ConfigErrors, WrongType) {
  Error e = load_error(lines({"[component]", "domain = \"rooms.localhost\"", "secret = \"x\"",
                              "server_port = \"5347\"", "[database]", "conninfo = \"x\""}));
  EXPECT_EQ(e.key, "component.server_port");
  EXPECT_EQ(e.line, 4);
  EXPECT_EQ(e.message, "expected integer, got string");
  EXPECT_EQ(e.str(), "salon.toml:4: key 'component.server_port': expected integer, got string");
}

TEST(ConfigErrors, WrongTypeForEveryKind) {
  struct Case {
    std::string line;
    std::string key;
    std::string message;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"members_can_change_subject = 1", "muc.members_can_change_subject",
            "expected boolean, got integer"},
           {"max_occupants = 2.5", "muc.max_occupants", "expected integer, got float"},
           {"messages_per_second = \"fast\"", "muc.messages_per_second",
            "expected float, got string"},
           {"role_affiliations = [\"a\"]", "muc.role_affiliations", "expected table, got array"},
           {"idle_unload_seconds = 1979-05-27", "muc.idle_unload_seconds",
            "expected integer, got date"},
       }) {
    Error e = load_error(minimal() + lines({"[muc]", c.line}));
    EXPECT_EQ(e.key, c.key) << c.line;
    EXPECT_EQ(e.line, 7) << c.line;
    EXPECT_EQ(e.message, c.message) << c.line;
  }
  Error e = load_error(lines({"log = \"debug\""}) + minimal());
  EXPECT_EQ(e.message, "expected table, got string");
  EXPECT_EQ(e.key, "log");
}

TEST(ConfigErrors, MissingDomain) {
  Error e = load_error(lines({"[component]", "secret = \"x\"", "[database]", "conninfo = \"x\""}));
  EXPECT_EQ(e.key, "component.domain");
  EXPECT_EQ(e.line, 1);  // the [component] header: where it should be added
  EXPECT_THAT(e.message, HasSubstr("required"));
}

TEST(ConfigErrors, EmptyFileMissesComponentWithoutLine) {
  Error e = load_error("");
  EXPECT_EQ(e.key, "component.domain");
  EXPECT_EQ(e.line, 0);
  EXPECT_THAT(e.str(), StartsWith("salon.toml: key 'component.domain': "));
}

TEST(ConfigErrors, MissingConninfo) {
  Error e = load_error(lines({"[component]", "domain = \"rooms.localhost\"", "secret = \"x\""}));
  EXPECT_EQ(e.key, "database.conninfo");
  EXPECT_EQ(e.message, "one of conninfo or conninfo_env is required");
}

TEST(ConfigErrors, BadDomain) {
  for (std::string d : {"user@rooms.localhost", "rooms.localhost/res", "", "rooms..localhost",
                        ".rooms", "rooms.localhost.", "-rooms.localhost", "rooms local", "a_b.c"}) {
    Error e = load_error(lines({"[component]", "domain = \"" + d + "\"", "secret = \"x\"",
                                "[database]", "conninfo = \"x\""}));
    EXPECT_EQ(e.key, "component.domain") << d;
    EXPECT_EQ(e.line, 2) << d;
  }
  EXPECT_THAT(load_error(lines({"[component]", "domain = \"a@b\"", "secret = \"x\"", "[database]",
                                "conninfo = \"x\""}))
                  .message,
              HasSubstr("'@'"));
}

TEST(ConfigErrors, BadPort) {
  for (const char* port : {"0", "65536", "-1"}) {
    Error e =
        load_error(lines({"[component]", "domain = \"rooms.localhost\"", "secret = \"x\"",
                          std::string("server_port = ") + port, "[database]", "conninfo = \"x\""}));
    EXPECT_EQ(e.key, "component.server_port") << port;
    EXPECT_EQ(e.line, 4) << port;
    EXPECT_EQ(e.message, std::string("must be between 1 and 65535, got ") + port);
  }
}

TEST(ConfigErrors, BadListen) {
  for (const char* listen : {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:http",
                             ":8480", "::1:8480", "127.0.0.1:", "[::1]:99999"}) {
    Error e = load_error(minimal() + lines({"[http]", std::string("listen = \"") + listen + "\""}));
    EXPECT_EQ(e.key, "http.listen") << listen;
    EXPECT_EQ(e.line, 7) << listen;
  }
  EXPECT_THAT(load_error(minimal() + lines({"[http]", "listen = \"::1:8480\""})).message,
              HasSubstr("brackets"));
}

TEST(ConfigErrors, BadLevel) {
  Error e = load_error(minimal() + lines({"[log]", "level = \"verbose\""}));
  EXPECT_EQ(e.key, "log.level");
  EXPECT_EQ(e.line, 7);
  EXPECT_THAT(e.message, HasSubstr("'verbose'"));
  EXPECT_THAT(e.message, HasSubstr("trace, debug, info, warn or error"));
}

TEST(ConfigErrors, BadFormat) {
  Error e = load_error(minimal() + lines({"[log]", "format = \"xml\""}));
  EXPECT_EQ(e.key, "log.format");
  EXPECT_EQ(e.line, 7);
  EXPECT_THAT(e.message, HasSubstr("text or json"));
}

TEST(ConfigErrors, BadRoleMapping) {
  Error e = load_error(minimal() + lines({"[muc.role_affiliations]", "client = \"member\"",
                                          "staff = \"moderator\""}));
  EXPECT_EQ(e.key, "muc.role_affiliations.staff");
  EXPECT_EQ(e.line, 8);
  EXPECT_THAT(e.message, HasSubstr("member, admin, owner or none"));
  e = load_error(minimal() + lines({"[muc.role_affiliations]", "client = true"}));
  EXPECT_EQ(e.key, "muc.role_affiliations.client");
  EXPECT_EQ(e.message, "expected string, got boolean");
}

TEST(ConfigErrors, KeepaliveTimeoutMustExceedInterval) {
  auto doc = [](std::string_view interval, std::string_view timeout) {
    return lines({"[component]", "domain = \"rooms.localhost\"", "secret = \"x\"", interval,
                  timeout, "[database]", "conninfo = \"x\""});
  };
  Error e = load_error(doc("keepalive_interval_ms = 5000", "keepalive_timeout_ms = 5000"));
  EXPECT_EQ(e.key, "component.keepalive_timeout_ms");
  EXPECT_EQ(e.line, 5);
  EXPECT_THAT(e.message, HasSubstr("greater than keepalive_interval_ms (5000)"));
  // Only the timeout set, below the default interval of 10000.
  e = load_error(doc("", "keepalive_timeout_ms = 3000"));
  EXPECT_EQ(e.key, "component.keepalive_timeout_ms");
  EXPECT_EQ(e.line, 5);
  // Only the interval set, above the default timeout of 20000: the interval is the culprit.
  e = load_error(doc("keepalive_interval_ms = 30000", ""));
  EXPECT_EQ(e.key, "component.keepalive_interval_ms");
  EXPECT_EQ(e.line, 4);
}

TEST(ConfigErrors, ReconnectMaxBelowInitial) {
  Error e = load_error(lines({"[component]", "domain = \"rooms.localhost\"", "secret = \"x\"",
                              "reconnect_initial_ms = 500", "reconnect_max_ms = 400", "[database]",
                              "conninfo = \"x\""}));
  EXPECT_EQ(e.key, "component.reconnect_max_ms");
  EXPECT_EQ(e.line, 5);
}

TEST(ConfigErrors, StanzaLimits) {
  auto component = [](std::string_view line) {
    return lines({"[component]", "domain = \"rooms.localhost\"", "secret = \"x\"", line,
                  "[database]", "conninfo = \"x\""});
  };
  for (const char* line : {"max_stanza_bytes = 0", "max_stanza_depth = -1",
                           "max_stanza_attributes = 0", "max_send_queue_bytes = 0"}) {
    Error e = load_error(component(line));
    EXPECT_EQ(e.line, 4) << line;
    EXPECT_THAT(e.message, HasSubstr("positive")) << line;
  }
  // Deeper than the archive parses stored stanzas: they would be accepted and never read back.
  Error e = load_error(component("max_stanza_depth = 65"));
  EXPECT_EQ(e.key, "component.max_stanza_depth");
  EXPECT_EQ(e.line, 4);
  EXPECT_THAT(e.message, HasSubstr("at most 64"));
}

TEST(ConfigErrors, NonPositiveDurationsAndLimits) {
  for (const char* line : {"health_interval_ms = 0", "health_interval_ms = -5",
                           "statement_timeout_ms = 0", "max_queued_queries = 0"}) {
    Error e = load_error(lines({"[component]", "domain = \"rooms.localhost\"", "secret = \"x\"",
                                "[database]", "conninfo = \"x\"", line}));
    const std::string_view text = line;
    EXPECT_EQ(e.key, "database." + std::string(text.substr(0, text.find(' '))));
    EXPECT_EQ(e.line, 6);
    EXPECT_THAT(e.message, StartsWith("must be positive"));
  }
  for (const char* line : {"max_occupants = 0", "max_nick_chars = -1", "idle_unload_seconds = 0",
                           "messages_per_second = 0.0", "message_burst = -1", "message_burst = inf",
                           "messages_per_second = nan"}) {
    Error e = load_error(minimal() + lines({"[muc]", line}));
    EXPECT_EQ(e.line, 7) << line;
    EXPECT_THAT(e.message, HasSubstr("positive")) << line;
  }
}

TEST(ConfigErrors, TheSpoolDirIsAnAbsolutePath) {
  for (const char* line : {"spool_dir = \"spool\"", "spool_dir = \"\""}) {
    Error e = load_error(lines({"[component]", "domain = \"rooms.localhost\"", "secret = \"x\"",
                                "[database]", "conninfo = \"x\"", line}));
    EXPECT_EQ(e.key, "database.spool_dir") << line;
    EXPECT_EQ(e.line, 6) << line;
    EXPECT_EQ(e.message, "must be an absolute path") << line;
  }
}

TEST(ConfigErrors, PluginValueKinds) {
  struct Case {
    std::string line;
    std::string message;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"enabled = \"yes\"", "expected boolean, got string"},
           {"limits = { a = 1 }", "unsupported value type table"},
           {"since = 2024-01-01", "unsupported value type date"},
           {"ids = [1, 2]", "expected array of strings, got array containing integer"},
           {"nested = [[\"a\"]]", "expected array of strings, got array containing array"},
       }) {
    Error e = load_error(minimal() + lines({"[plugins.archive]", "enabled = true", c.line}));
    if (c.line.starts_with("enabled")) {  // a second `enabled` is a TOML syntax error
      e = load_error(minimal() + lines({"[plugins.archive]", c.line}));
      EXPECT_EQ(e.line, 7);
    } else {
      EXPECT_EQ(e.line, 8) << c.line;
    }
    EXPECT_EQ(e.key, "plugins.archive." + c.line.substr(0, c.line.find(' '))) << c.line;
    EXPECT_THAT(e.message, StartsWith(c.message)) << c.line;
  }
  Error e = load_error(minimal() + lines({"[plugins]", "archive = true"}));
  EXPECT_EQ(e.key, "plugins.archive");
  EXPECT_EQ(e.line, 7);
  EXPECT_THAT(e.message, HasSubstr("expected table"));
}

TEST(ConfigErrors, TomlSyntaxErrorHasLineAndDescription) {
  Error e = load_error(minimal() + lines({"[muc]", "max_occupants = = 3"}));
  EXPECT_EQ(e.key, "");
  EXPECT_EQ(e.line, 7);
  EXPECT_THAT(e.message, HasSubstr("Error while parsing"));
  EXPECT_THAT(e.str(), StartsWith("salon.toml:7: Error while parsing"));
  e = load_error(lines({"[component]", "domain = \"rooms.localhost"}));
  EXPECT_EQ(e.line, 2);
}

TEST(ConfigErrors, FirstErrorIsTheEarliestInTheFile) {
  // Sections are checked in a fixed order; the reported error is still the first in the file.
  Error e =
      load_error(lines({"[muc]", "max_occupants = 0", "[component]", "domain = \"rooms.localhost\"",
                        "secret = \"x\"", "bogus = 1", "[database]", "conninfo = \"x\""}));
  EXPECT_EQ(e.key, "muc.max_occupants");
  EXPECT_EQ(e.line, 2);
}

TEST(ConfigErrors, UnreadableFile) {
  Result r = load_file("/nonexistent/salon.toml");
  ASSERT_TRUE(r.error);
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.error->str(), "/nonexistent/salon.toml: cannot read: No such file or directory");
  TempDir dir;
  r = load_file(dir.path().string());
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->message, "cannot read: is a directory");
}

TEST(ConfigErrors, StrFormats) {
  EXPECT_EQ((Error{"a.b", 3, "bad", "f.toml"}).str(), "f.toml:3: key 'a.b': bad");
  EXPECT_EQ((Error{"a.b", 0, "bad", "f.toml"}).str(), "f.toml: key 'a.b': bad");
  EXPECT_EQ((Error{"", 7, "syntax", "f.toml"}).str(), "f.toml:7: syntax");
  EXPECT_EQ((Error{"", 0, "gone", "f.toml"}).str(), "f.toml: gone");
}

}  // namespace
}  // namespace salon::config::test
