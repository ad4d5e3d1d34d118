// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/uuid.hpp"

#include <gtest/gtest.h>

#include <cctype>

#include <chrono>
#include <string>

namespace salon {
namespace {

TEST(Uuid, Uuid4Format) {
  const auto a = uuid4();
  const auto b = uuid4();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[8], '-');
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos);
}

TEST(Uuid, Uuid7CarriesTheTimeAndSortsInOrder) {
  using namespace std::chrono;
  // 2026-11-28T12:00:00.123456Z: 0x01a22206ca7b ms, then 456 µs = 0x1c8 in rand_a.
  const system_clock::time_point t{microseconds(1795867200123456)};
  const auto a = uuid7(t);
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a.substr(0, 19), "01a22206-ca7b-71c8-");
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos);
  EXPECT_NE(a, uuid7(t));  // same microsecond: the random bits differ
  std::string prev = uuid7(t);
  for (int step : {1, 999, 1000, 1001, 86'400'000}) {
    const auto next = uuid7(t + microseconds(step));
    EXPECT_LT(prev, next) << step;
    prev = next;
  }
}

TEST(Uuid, Version7CarriesItsTimeToTheMicrosecond) {
  using std::chrono::microseconds;
  for (std::int64_t us : {std::int64_t{0}, std::int64_t{999}, std::int64_t{1'765'000'000'123'456},
                          std::int64_t{1'765'000'000'123'999}}) {
    const std::chrono::system_clock::time_point t{microseconds(us)};
    const auto back = uuid7_time(uuid7(t));
    ASSERT_TRUE(back) << us;
    EXPECT_EQ(*back, t) << us;
  }
}

TEST(Uuid, Version7TimeRefusesWhatIsNotOneOfOurs) {
  EXPECT_FALSE(uuid7_time(uuid4()));
  EXPECT_FALSE(uuid7_time(""));
  EXPECT_FALSE(uuid7_time("not-a-uuid"));
  const std::string v7 = uuid7();
  std::string upper = v7;
  for (char& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_FALSE(uuid7_time(upper));  // we mint lowercase only
  std::string dashless = v7;
  dashless[8] = 'a';
  EXPECT_FALSE(uuid7_time(dashless));
  // rand_a past 999 is not a sub-millisecond count: a v7 id someone else minted.
  std::string foreign = v7;
  foreign[15] = 'f';
  foreign[16] = 'f';
  foreign[17] = 'f';
  EXPECT_FALSE(uuid7_time(foreign));
}

}  // namespace
}  // namespace salon
