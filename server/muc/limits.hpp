// SPDX-License-Identifier: GPL-3.0-or-later
// Per-occupant and per-stanza limits (config [muc]): a token bucket for message rates, and
// character counting for body and nick lengths lives in core/text.hpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>

#include "core/text.hpp"

namespace salon::muc {

class TokenBucket {
public:
  using Clock = std::chrono::steady_clock;
  // Takes one token if available. The bucket starts full (`burst` tokens) and refills at
  // `rate` tokens per second up to `burst`.
  bool take(double rate, double burst, Clock::time_point now);

private:
  double tokens_ = -1;  // < 0: not used yet (full)
  Clock::time_point last_{};
};

}  // namespace salon::muc
