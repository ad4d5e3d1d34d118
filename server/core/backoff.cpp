// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/backoff.hpp"

#include <algorithm>

namespace salon {

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max,
                 std::uint64_t seed)
    : initial_(std::max(initial, std::chrono::milliseconds(1))),
      max_(std::max(max, initial_)),
      current_(initial_),
      rng_(seed) {}

std::chrono::milliseconds Backoff::next() {
  const auto d = std::min(current_, max_);
  std::uniform_int_distribution<std::int64_t> dist(d.count() / 2, d.count());
  current_ = std::min(current_ * 2, max_);
  ++attempts_;
  return std::chrono::milliseconds(dist(rng_));
}

}  // namespace salon
