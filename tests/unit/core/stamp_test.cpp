// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "core/stamp.hpp"

namespace salon {
namespace {

TEST(Stamp, ParsesUtcWithAndWithoutFraction) {
  EXPECT_EQ(parse_stamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_stamp("1970-01-01T00:00:01.5Z"), 1500000);
  EXPECT_EQ(parse_stamp("2026-11-28T12:00:00.123456Z"), 1795867200123456);
  EXPECT_EQ(parse_stamp("2026-11-28T12:00:00.1234567Z"), 1795867200123456);  // truncated
}

TEST(Stamp, AppliesTheOffset) {
  EXPECT_EQ(parse_stamp("2026-11-28T13:30:00+01:30"), parse_stamp("2026-11-28T12:00:00Z"));
  EXPECT_EQ(parse_stamp("2026-11-28T10:00:00-02:00"), parse_stamp("2026-11-28T12:00:00Z"));
}

TEST(Stamp, RejectsMalformed) {
  for (const char* bad :
       {"", "2026-11-28", "2026-11-28T12:00:00", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
        "2026-11-28T24:00:00Z", "2026-11-28T12:00:00.Z", "2026-11-28 12:00:00Z",
        "2026-11-28T12:00:00Zjunk", "yesterday", "2026-11-28T12:00:00+0100"})
    EXPECT_FALSE(parse_stamp(bad)) << bad;
  EXPECT_TRUE(parse_stamp("2024-02-29T00:00:00Z"));  // a leap day
}

// Found by fuzz/mam_query: a MAM 'start' of year 0 (or carried there by its offset) became a
// parameter PostgreSQL refuses ("-001-12-31..." or year 0), so the query failed as
// internal-server-error instead of bad-request; a join's history 'since' likewise.
TEST(Stamp, RefusesInstantsOutsideYears1To9999) {
  for (const char* bad : {"0000-01-01T00:00:00Z", "0000-12-31T23:59:59Z",
                          "0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"})
    EXPECT_FALSE(parse_stamp(bad)) << bad;
  for (const char* edge : {"0001-01-01T00:00:00.000000Z", "9999-12-31T23:59:59.999999Z"}) {
    const auto us = parse_stamp(edge);
    ASSERT_TRUE(us) << edge;
    EXPECT_EQ(format_stamp(*us), edge);
  }
}

TEST(Stamp, FormatsWithMicrosecondsAndRoundTrips) {
  EXPECT_EQ(format_stamp(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_stamp(1795867200123456), "2026-11-28T12:00:00.123456Z");
  EXPECT_EQ(format_stamp(-1), "1969-12-31T23:59:59.999999Z");
  for (std::int64_t us : {std::int64_t{951782400000001}, std::int64_t{4102444799999999}})
    EXPECT_EQ(parse_stamp(format_stamp(us)), us);
}

}  // namespace
}  // namespace salon
