// SPDX-License-Identifier: GPL-3.0-or-later
// Latency samples (every sample kept: exact percentiles, no histogram rounding) and a
// small clock helper.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace salon::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

class Latencies {
public:
  void reserve(std::size_t n) { us_.reserve(n); }
  void add(Clock::duration d) {
    us_.push_back(std::chrono::duration<double, std::micro>(d).count());
    sorted_ = false;
  }
  [[nodiscard]] std::size_t count() const { return us_.size(); }

  // The q-quantile (0..1) in microseconds, nearest-rank; 0 without samples.
  double quantile(double q) {
    if (us_.empty()) return 0;
    sort();
    const auto n = us_.size();
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(n)));
    rank = std::clamp<std::size_t>(rank, 1, n);
    return us_[rank - 1];
  }
  double max() { return quantile(1.0); }
  double mean() const {
    double s = 0;
    for (double v : us_)
      s += v;
    return us_.empty() ? 0 : s / static_cast<double>(us_.size());
  }

  // "n=5000 p50=0.123 ms p90=... p99=... p99.9=... max=..."
  std::string summary() {
    if (us_.empty()) return "n=0";
    return fmt::format(
        "n={} mean={:.3f} p50={:.3f} p90={:.3f} p99={:.3f} p99.9={:.3f} max={:.3f} ms", count(),
        mean() / 1e3, quantile(0.5) / 1e3, quantile(0.9) / 1e3, quantile(0.99) / 1e3,
        quantile(0.999) / 1e3, max() / 1e3);
  }

private:
  void sort() {
    if (!sorted_) std::sort(us_.begin(), us_.end());
    sorted_ = true;
  }
  std::vector<double> us_;
  bool sorted_ = true;
};

}  // namespace salon::bench
