// SPDX-License-Identifier: GPL-3.0-or-later
// Connection-string handling (no server needed).
#include <gtest/gtest.h>

#include "db/conninfo.hpp"

namespace salon::db {
namespace {

TEST(Conninfo, OverridesAndKeepsTheRest) {
  const std::string c = conninfo_with("host=/run/pg port=5433 dbname=salon", {{"dbname", "x"}});
  EXPECT_EQ(conninfo_get(c, "dbname"), "x");
  EXPECT_EQ(conninfo_get(c, "host"), "/run/pg");
  EXPECT_EQ(conninfo_get(c, "port"), "5433");
}

TEST(Conninfo, DefaultsOnlyFillGaps) {
  const std::string c = conninfo_with_defaults("connect_timeout=9 dbname=salon",
                                               {{"connect_timeout", "5"}, {"user", "salon"}});
  EXPECT_EQ(conninfo_get(c, "connect_timeout"), "9");
  EXPECT_EQ(conninfo_get(c, "user"), "salon");
}

TEST(Conninfo, UrisAndQuotingRoundTrip) {
  const std::string c =
      conninfo_with("postgresql://salon@localhost:5999/db1", {{"password", "it's \\ secret"}});
  EXPECT_EQ(conninfo_get(c, "password"), "it's \\ secret");
  EXPECT_EQ(conninfo_get(c, "port"), "5999");
  EXPECT_EQ(conninfo_get(c, "dbname"), "db1");
  EXPECT_EQ(conninfo_get(c, "user"), "salon");
}

TEST(Conninfo, ErrorsAreExceptions) {
  EXPECT_THROW(conninfo_get("host='unterminated", "host"), std::invalid_argument);
  EXPECT_THROW(conninfo_with("nosuchkey=1", {}), std::invalid_argument);
  EXPECT_THROW(conninfo_with("dbname=x", {{"nosuchkey", "1"}}), std::invalid_argument);
  EXPECT_EQ(conninfo_get("dbname=x", "host"), std::nullopt);
}

}  // namespace
}  // namespace salon::db
