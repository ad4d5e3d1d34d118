// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "schedule.hpp"

namespace salon::email {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::int64_t kS = 1'000'000;  // µs per second

const std::vector<seconds> kSteps = {minutes(15), hours(1), hours(4), hours(12)};

TEST(Throttle, TheFirstEmailStartsAStreakAndWaitsTheFirstStep) {
  const auto n = after_email(std::nullopt, 1000 * kS, kSteps, hours(24));
  EXPECT_EQ(n.streak, 0);
  EXPECT_EQ(n.next_allowed_us, 1000 * kS + 15 * 60 * kS);
}

TEST(Throttle, BusyRoomsClimbTheStepsAndStayOnTheLast) {
  std::optional<ThrottleState> st;
  std::int64_t now = 0;
  const std::int64_t waits[] = {15 * 60, 3600, 4 * 3600, 12 * 3600, 12 * 3600};
  for (std::int64_t w : waits) {
    const auto n = after_email(st, now, kSteps, hours(24));
    EXPECT_EQ(n.next_allowed_us - now, w * kS) << "streak " << n.streak;
    st = ThrottleState{now, n.streak};
    now = n.next_allowed_us;  // the next email goes as soon as it may
  }
}

TEST(Throttle, AQuietPeriodResetsTheStreak) {
  const ThrottleState st{0, 3};
  EXPECT_EQ(after_email(st, 24 * 3600 * kS - 1, kSteps, hours(24)).streak, 4);  // not yet
  const auto n = after_email(st, 24 * 3600 * kS, kSteps, hours(24));
  EXPECT_EQ(n.streak, 0);
  EXPECT_EQ(n.next_allowed_us, 24 * 3600 * kS + 15 * 60 * kS);
}

TEST(Throttle, ZeroStepsMeanNoThrottle) {
  const auto n = after_email(std::nullopt, 5 * kS, {seconds(0)}, hours(1));
  EXPECT_EQ(n.next_allowed_us, 5 * kS);
}

TEST(Retry, DoublesFromTheInitialDelayUpToTheCap) {
  EXPECT_EQ(retry_delay(1, seconds(30), hours(1)), seconds(30));
  EXPECT_EQ(retry_delay(2, seconds(30), hours(1)), seconds(60));
  EXPECT_EQ(retry_delay(5, seconds(30), hours(1)), seconds(480));
  EXPECT_EQ(retry_delay(8, seconds(30), hours(1)), hours(1));
  EXPECT_EQ(retry_delay(1000, seconds(30), hours(1)), hours(1));  // no overflow
}

}  // namespace
}  // namespace salon::email
