// SPDX-License-Identifier: GPL-3.0-or-later
#include "muc/limits.hpp"

#include <algorithm>

namespace salon::muc {

bool TokenBucket::take(double rate, double burst, Clock::time_point now) {
  burst = std::max(burst, 1.0);
  if (tokens_ < 0) {
    tokens_ = burst;
  } else {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst, tokens_ + std::max(elapsed, 0.0) * std::max(rate, 0.0));
  }
  last_ = now;
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

}  // namespace salon::muc
