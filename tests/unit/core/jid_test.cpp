// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/jid.hpp"

#include <gtest/gtest.h>

namespace salon {
namespace {

TEST(Jid, ParsesFullJid) {
  const auto j = Jid::parse("Alice@Example.COM/Phone");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->local(), "alice");         // nodeprep case-folds
  EXPECT_EQ(j->domain(), "example.com");  // nameprep case-folds
  EXPECT_EQ(j->resource(), "Phone");      // resourceprep keeps case
  EXPECT_EQ(j->str(), "alice@example.com/Phone");
  EXPECT_EQ(j->bare_str(), "alice@example.com");
  EXPECT_FALSE(j->is_bare());
  EXPECT_EQ(j->bare(), *Jid::parse("alice@example.com"));
}

TEST(Jid, DomainOnlyAndDomainWithResource) {
  EXPECT_EQ(Jid::parse("rooms.example.com")->str(), "rooms.example.com");
  const auto j = Jid::parse("rooms.example.com/x");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->local(), "");
  EXPECT_EQ(j->resource(), "x");
}

TEST(Jid, ResourceMayContainSlashAndAt) {
  const auto j = Jid::parse("room@rooms.h/nick/with@odd");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->local(), "room");
  EXPECT_EQ(j->resource(), "nick/with@odd");
}

TEST(Jid, RejectsInvalid) {
  EXPECT_FALSE(Jid::parse(""));
  EXPECT_FALSE(Jid::parse("@example.com"));
  EXPECT_FALSE(Jid::parse("user@"));
  EXPECT_FALSE(Jid::parse("a@b@host"));
  EXPECT_FALSE(Jid::parse("alice@local host"));
  EXPECT_FALSE(Jid::parse("alice@exa_mple.com"));
  EXPECT_TRUE(Jid::parse("alice@[::1]"));
  EXPECT_FALSE(Jid::from_parts("a", "b@host"));
  EXPECT_FALSE(Jid::parse("user@example.com/"));
  EXPECT_FALSE(Jid::parse("us\"er@example.com"));  // '"' is prohibited by nodeprep
  EXPECT_FALSE(Jid::parse("us er@example.com"));   // so is space
  EXPECT_FALSE(Jid::parse(std::string(1024, 'a') + "@example.com"));
}

TEST(Jid, TrailingDotDomainIsTheSame) {
  EXPECT_EQ(Jid::parse("a@example.com.")->domain(), "example.com");
}

// Found by fuzz/jid_prep: "omR.." parsed to "omr.", which parses to "omr"; "m´." to
// "m \u0301", which does not parse.
TEST(Jid, EmptyDomainLabelsAreRefused) {
  EXPECT_FALSE(Jid::parse("omR.."));
  EXPECT_FALSE(Jid::parse("a@b..c"));
  EXPECT_FALSE(Jid::parse("a@.b"));
  EXPECT_FALSE(Jid::parse("m\u00b4."));  // nameprep makes the acute a space + combining mark
  for (const char* s : {"a@example.com.", "example.com", "a@[::1]/r"}) {
    auto j = Jid::parse(s);
    ASSERT_TRUE(j) << s;
    EXPECT_EQ(Jid::parse(j->str())->str(), j->str()) << s;
  }
}

TEST(Jid, CachedAnswersAreStable) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Jid::parse("X@Y/z")->str(), "x@y/z");
    EXPECT_FALSE(Jid::parse("@bad"));
  }
}

TEST(Jid, PartPreps) {
  EXPECT_EQ(Jid::nodeprep("Project-42").value_or("?"), "project-42");
  EXPECT_FALSE(Jid::nodeprep("a b"));
  EXPECT_FALSE(Jid::nodeprep(""));
  EXPECT_EQ(Jid::resourceprep("Nick Name").value_or("?"), "Nick Name");
  EXPECT_FALSE(Jid::resourceprep(""));
}

TEST(Jid, Ordering) {
  EXPECT_EQ(*Jid::parse("a@b/c"), *Jid::parse("A@B/c"));
  EXPECT_NE(*Jid::parse("a@b/c"), *Jid::parse("a@b/C"));
}

}  // namespace
}  // namespace salon
