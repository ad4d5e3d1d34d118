// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/backoff.hpp"

#include <gtest/gtest.h>

namespace salon {
namespace {
using std::chrono::milliseconds;

TEST(Backoff, GrowsExponentiallyToTheCap) {
  Backoff b(milliseconds(100), milliseconds(1600), 42);
  const long expected_base[] = {100, 200, 400, 800, 1600, 1600, 1600};
  for (long base : expected_base) {
    EXPECT_EQ(b.base().count(), base);
    const auto d = b.next();
    EXPECT_GE(d.count(), base / 2);
    EXPECT_LE(d.count(), base);
  }
}

TEST(Backoff, NeverExceedsTheCapOverManyAttempts) {
  Backoff b(milliseconds(100), milliseconds(1600), 7);
  for (int i = 0; i < 10000; ++i) {
    const auto d = b.next();
    EXPECT_LE(d.count(), 1600);
    EXPECT_GE(d.count(), 50);
  }
}

TEST(Backoff, JitterSpreadsDelays) {
  Backoff a(milliseconds(1000), milliseconds(1000), 1),
      b(milliseconds(1000), milliseconds(1000), 2);
  int differ = 0;
  for (int i = 0; i < 50; ++i)
    differ += a.next() != b.next();
  EXPECT_GT(differ, 40);
}

TEST(Backoff, ResetStartsOver) {
  Backoff b(milliseconds(100), milliseconds(1600), 3);
  for (int i = 0; i < 5; ++i)
    b.next();
  EXPECT_EQ(b.attempts(), 5u);
  b.reset();
  EXPECT_EQ(b.base().count(), 100);
  EXPECT_EQ(b.attempts(), 0u);
  EXPECT_LE(b.next().count(), 100);
}

TEST(Backoff, DegenerateSettingsAreClamped) {
  Backoff b(milliseconds(0), milliseconds(0), 3);
  EXPECT_GE(b.next().count(), 0);
  EXPECT_LE(b.next().count(), 1);
}

}  // namespace
}  // namespace salon
