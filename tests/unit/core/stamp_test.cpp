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

TEST(Stamp, FormatsWithMicrosecondsAndRoundTrips) {
  EXPECT_EQ(format_stamp(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_stamp(1795867200123456), "2026-11-28T12:00:00.123456Z");
  EXPECT_EQ(format_stamp(-1), "1969-12-31T23:59:59.999999Z");
  for (std::int64_t us : {std::int64_t{951782400000001}, std::int64_t{4102444799999999}})
    EXPECT_EQ(parse_stamp(format_stamp(us)), us);
}

}  // namespace
}  // namespace salon
