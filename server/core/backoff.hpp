// SPDX-License-Identifier: GPL-3.0-or-later
// Reconnect schedule: exponential growth from `initial` up to `max`, with jitter so that many
// components restarting together do not hammer the server in lock-step. The jitter keeps each
// delay in [d/2, d] ("equal jitter"), so the cap is a true upper bound: with the default
// max = 0.5 s the link is back within ~0.5 s of the server.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace salon {

class Backoff {
public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max,
          std::uint64_t seed = std::random_device{}());
  // The delay before the next attempt; each call grows the base delay.
  std::chrono::milliseconds next();
  // The un-jittered delay the next call is based on (tests).
  [[nodiscard]] std::chrono::milliseconds base() const { return current_; }
  void reset() {
    current_ = initial_;
    attempts_ = 0;
  }
  [[nodiscard]] unsigned attempts() const { return attempts_; }

private:
  std::chrono::milliseconds initial_, max_, current_;
  unsigned attempts_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace salon
