// SPDX-License-Identifier: GPL-3.0-or-later
// Secrets (component secret, API token, PostgreSQL conninfo): exactly one form, resolved from
// the environment or a file, and never part of an error message.
#include "test_util.hpp"

#include <gmock/gmock.h>

#include <vector>

namespace salon::config::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kDb = lines({"[database]", "conninfo = \"x\""});

TEST(ConfigSecrets, MissingSecret) {
  Error e = load_error(lines({"[component]", "domain = \"rooms.localhost\""}) + kDb);
  EXPECT_EQ(e.key, "component.secret");
  EXPECT_EQ(e.line, 1);
  EXPECT_EQ(e.message, "one of secret, secret_env or secret_file is required");
}

TEST(ConfigSecrets, TwoSecretsAreAnError) {
  Error e = load_error(lines({"[component]", "domain = \"rooms.localhost\"", "secret = \"abc\"",
                              "secret_file = \"/etc/salon/secret\""}) +
                       kDb);
  EXPECT_EQ(e.key, "component.secret_file");
  EXPECT_EQ(e.line, 4);
  EXPECT_THAT(e.message, HasSubstr("only one of secret, secret_env or secret_file"));
  EXPECT_THAT(e.message, HasSubstr("secret is set on line 3"));
  // All three: still reported at the second one.
  e = load_error(lines({"[component]", "domain = \"rooms.localhost\"", "secret_env = \"A\"",
                        "secret = \"abc\"", "secret_file = \"f\""}) +
                 kDb);
  EXPECT_EQ(e.key, "component.secret");
  EXPECT_EQ(e.line, 4);
}

TEST(ConfigSecrets, SecretEnvUnsetOrEmpty) {
  ScopedEnv unset("SALON_TEST_UNSET_SECRET", nullptr);
  Error e = load_error(lines({"[component]", "domain = \"rooms.localhost\"",
                              "secret_env = \"SALON_TEST_UNSET_SECRET\""}) +
                       kDb);
  EXPECT_EQ(e.key, "component.secret_env");
  EXPECT_EQ(e.line, 3);
  EXPECT_EQ(e.message, "environment variable SALON_TEST_UNSET_SECRET is not set");
  ScopedEnv empty("SALON_TEST_EMPTY_SECRET", "");
  e = load_error(lines({"[component]", "domain = \"rooms.localhost\"",
                        "secret_env = \"SALON_TEST_EMPTY_SECRET\""}) +
                 kDb);
  EXPECT_EQ(e.message, "environment variable SALON_TEST_EMPTY_SECRET is empty");
}

TEST(ConfigSecrets, SecretFileMissingOrEmpty) {
  TempDir dir;
  auto missing = (dir.path() / "nope.secret").string();
  Error e = load_error(
      lines({"[component]", "domain = \"rooms.localhost\"", "secret_file = \"" + missing + "\""}) +
      kDb);
  EXPECT_EQ(e.key, "component.secret_file");
  EXPECT_EQ(e.line, 3);
  EXPECT_EQ(e.message, "cannot read '" + missing + "': No such file or directory");
  auto empty = dir.write("empty.secret", "\n");
  e = load_error(lines({"[component]", "domain = \"rooms.localhost\"",
                        "secret_file = \"" + empty.string() + "\""}) +
                 kDb);
  EXPECT_EQ(e.message, "file '" + empty.string() + "' is empty");
  e = load_error(lines({"[component]", "domain = \"rooms.localhost\"",
                        "secret_file = \"" + dir.path().string() + "\""}) +
                 kDb);
  EXPECT_THAT(e.message, HasSubstr("not a regular file"));
}

TEST(ConfigSecrets, EmptyInlineSecret) {
  Error e =
      load_error(lines({"[component]", "domain = \"rooms.localhost\"", "secret = \"\""}) + kDb);
  EXPECT_EQ(e.key, "component.secret");
  EXPECT_EQ(e.message, "must not be empty");
}

TEST(ConfigSecrets, ApiTokenAndConninfoFollowTheSameRules) {
  Error e = load_error(minimal() + lines({"[http]", "api_token = \"a\"", "api_token_env = \"B\""}));
  EXPECT_EQ(e.key, "http.api_token_env");
  EXPECT_EQ(e.line, 8);
  ScopedEnv unset("SALON_TEST_UNSET_PG", nullptr);
  e = load_error(lines({"[component]", "domain = \"rooms.localhost\"", "secret = \"x\"",
                        "[database]", "conninfo_env = \"SALON_TEST_UNSET_PG\""}));
  EXPECT_EQ(e.key, "database.conninfo_env");
  EXPECT_EQ(e.line, 5);
  // conninfo has no _file form: that key is unknown.
  e = load_error(lines({"[component]", "domain = \"rooms.localhost\"", "secret = \"x\"",
                        "[database]", "conninfo_file = \"/x\""}));
  EXPECT_EQ(e.key, "database.conninfo_file");
  EXPECT_THAT(e.message, HasSubstr("unknown key"));
}

TEST(ConfigSecrets, EnvSecretsResolve) {
  ScopedEnv secret("SALON_TEST_SECRET", "from-env");
  ScopedEnv token("SALON_TEST_TOKEN", "token-from-env");
  ScopedEnv pg("SALON_TEST_PG", "host=/tmp dbname=salon");
  Config c = load_ok(
      lines({"[component]", "domain = \"rooms.localhost\"", "secret_env = \"SALON_TEST_SECRET\"",
             "[database]", "conninfo_env = \"SALON_TEST_PG\"", "[http]",
             "api_token_env = \"SALON_TEST_TOKEN\""}));
  EXPECT_EQ(c.component.secret, "from-env");
  EXPECT_EQ(c.http.api_token, "token-from-env");
  EXPECT_EQ(c.database.conninfo, "host=/tmp dbname=salon");
}

TEST(ConfigSecrets, FileSecretsResolveWithoutTrailingNewline) {
  TempDir dir;
  auto secret = dir.write("component.secret", "from file\n");
  auto token = dir.write("api.token", "tok\r\n");
  Config c = load_ok(lines(
      {"[component]", "domain = \"rooms.localhost\"", "secret_file = \"" + secret.string() + "\"",
       "[database]", "conninfo = \"x\"", "[http]", "api_token_file = \"" + token.string() + "\""}));
  EXPECT_EQ(c.component.secret, "from file");
  EXPECT_EQ(c.http.api_token, "tok");
}

TEST(ConfigSecrets, RelativeSecretFileIsRelativeToTheConfigFile) {
  TempDir dir;
  dir.write("component.secret", "relative-secret\n");
  auto cfg = dir.write("salon.toml", lines({"[component]", "domain = \"rooms.localhost\"",
                                            "secret_file = \"component.secret\"", "[database]",
                                            "conninfo = \"x\""}));
  Result r = load_file(cfg.string());
  ASSERT_TRUE(r.config) << r.error->str();
  EXPECT_EQ(r.config->component.secret, "relative-secret");
  EXPECT_EQ(r.config->path, cfg.string());
}

// Every error a config holding secrets can produce: none of them may quote a secret.
TEST(ConfigSecrets, SecretsNeverAppearInMessages) {
  const std::string s(kSecret);
  const std::string conninfo = "conninfo = \"password=" + std::string(kPgPassword) + "\"";
  TempDir dir;
  auto secret_file = dir.write("s", s + "\n");
  ScopedEnv env("SALON_TEST_LEAK_SECRET", s.c_str());
  ScopedEnv empty("SALON_TEST_LEAK_EMPTY", "");
  auto doc = [&](std::string_view secret_line, std::string_view extra = "") {
    return lines({"[component]", "domain = \"rooms.localhost\"", secret_line, extra, "[database]",
                  conninfo, "[http]", "api_token = \"" + s + "-api\""});
  };
  std::vector<std::string> docs{
      doc("secret = \"" + s + "\"", "bogus = 1"),  // unrelated error
      doc("secret = \"" + s + "\"", "secret_env = \"SALON_TEST_LEAK_SECRET\""),
      doc("secret_env = \"SALON_TEST_LEAK_SECRET\"", "secret = \"" + s + "\""),
      doc("secret_env = \"SALON_TEST_LEAK_SECRET\"", "server_port = 0"),
      doc("secret_file = \"" + secret_file.string() + "\"", "keepalive_timeout_ms = 1"),
      doc("secret_env = \"SALON_TEST_LEAK_EMPTY\""),
      doc("secret = 424242"),  // wrong type
      doc("secret = [\"" + s + "\"]"),
      doc("secret = \"" + s + "\\q\""),  // bad escape
      doc("secret = \"" + s),            // unterminated
      doc("secret = " + s),              // bare word
      doc("secret = 98765z"),
      doc("secret = 0xzz"),                                 // toml++ says "saw 'z'"
      doc("secret = 1979-13-01"),                           // toml++ says "saw 13"
      doc("secret = \"" + s + "\"", "domain = \"again\""),  // redefinition
      lines({"[component]", "domain = \"rooms.localhost\"", "secret = \"x\"", "[database]",
             "conninfo = 7"}),
      lines({"[component]", "domain = \"rooms.localhost\"", "secret = \"x\"", "[database]",
             conninfo, "conninfo_env = \"SALON_TEST_LEAK_SECRET\""}),
      lines({"[component]", "domain = \"rooms.localhost\"", "secret = \"x\"", "[database]",
             conninfo, "[http]", "api_token = \"" + s + "\"", "api_token_env = \"X\""}),
  };
  for (const auto& d : docs) {
    Error e = load_error(d);
    SCOPED_TRACE(d);
    for (const std::string& text : {e.str(), e.key}) {
      EXPECT_THAT(text, Not(HasSubstr("TOPSECRET")));
      EXPECT_THAT(text, Not(HasSubstr(std::string(kPgPassword))));
      EXPECT_THAT(text, Not(HasSubstr("424242")));
      EXPECT_THAT(text, Not(HasSubstr("98765")));
      EXPECT_THAT(text, Not(HasSubstr("'z'")));
      EXPECT_THAT(text, Not(HasSubstr("saw 13")));
    }
  }
}

TEST(ConfigSecrets, SyntaxErrorOnASecretLineHidesDetails) {
  Error e = load_error(lines({"[component]", "secret = 0xzz"}));
  EXPECT_EQ(e.line, 2);
  EXPECT_THAT(e.message, HasSubstr("details hidden"));
  EXPECT_THAT(e.message, Not(HasSubstr("'z'")));
  // Lines without a secret keep toml++'s full description.
  e = load_error(lines({"[component]", "server_port = 0xzz"}));
  EXPECT_THAT(e.message, HasSubstr("'z'"));
}

}  // namespace
}  // namespace salon::config::test
