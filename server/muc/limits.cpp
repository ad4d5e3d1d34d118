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

std::size_t utf8_length(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace salon::muc
