// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/uuid.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace salon
