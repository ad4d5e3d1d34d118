// SPDX-License-Identifier: GPL-3.0-or-later
// The two schedules of the email plugin, pure so they are tested without waiting: the
// throttle between emails for one room (docs/EMAIL.md compares it with Synapse's and
// Zulip's), and the backoff between attempts of a digest the SMTP server refused for now.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

namespace salon::email {

struct ThrottleState {
  std::int64_t last_sent_us = 0;
  int streak = 0;  // emails for the room since the last quiet period, minus one
};
struct ThrottleNext {
  int streak = 0;
  std::int64_t next_allowed_us = 0;  // the next email for the room waits until then
};

// After an email for a room at `now_us`: the streak goes on when the previous one was less
// than `reset` ago and starts again otherwise; the next email waits steps[streak] (the last
// step repeats).
ThrottleNext after_email(const std::optional<ThrottleState>& prev, std::int64_t now_us,
                         const std::vector<std::chrono::seconds>& steps,
                         std::chrono::seconds reset);

// The wait before attempt `attempts` + 1 after `attempts` temporary failures: initial,
// doubling, capped at `max`.
std::chrono::seconds retry_delay(int attempts, std::chrono::seconds initial,
                                 std::chrono::seconds max);

}  // namespace salon::email
