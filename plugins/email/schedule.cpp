// SPDX-License-Identifier: GPL-3.0-or-later
#include "schedule.hpp"

#include <algorithm>

namespace salon::email {

ThrottleNext after_email(const std::optional<ThrottleState>& prev, std::int64_t now_us,
                         const std::vector<std::chrono::seconds>& steps,
                         std::chrono::seconds reset) {
  const std::int64_t reset_us = reset.count() * 1'000'000;
  ThrottleNext next;
  next.streak = prev && now_us - prev->last_sent_us < reset_us ? prev->streak + 1 : 0;
  const std::chrono::seconds wait =
      steps.empty() ? std::chrono::seconds(0)
                    : steps[std::min(static_cast<std::size_t>(next.streak), steps.size() - 1)];
  next.next_allowed_us = now_us + wait.count() * 1'000'000;
  return next;
}

std::chrono::seconds retry_delay(int attempts, std::chrono::seconds initial,
                                 std::chrono::seconds max) {
  std::chrono::seconds d = initial;
  for (int i = 1; i < attempts && d < max; ++i)
    d *= 2;
  return std::min(d, max);
}

}  // namespace salon::email
