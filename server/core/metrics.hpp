// SPDX-License-Identifier: GPL-3.0-or-later
// Prometheus metrics (text exposition format 0.0.4). Names carry the `salon_` prefix, units in
// the name and `_total` for counters. Counters and gauges are atomics, so worker threads may
// update them; registration happens at start-up on the event loop, rendering on the loop too.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace salon {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
public:
  void inc(std::uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t value() const { return v_.load(std::memory_order_relaxed); }

private:
  std::atomic<std::uint64_t> v_{0};
};

class Gauge {
public:
  void set(double v) { v_.store(v, std::memory_order_relaxed); }
  void add(double d);
  [[nodiscard]] double value() const { return v_.load(std::memory_order_relaxed); }

private:
  std::atomic<double> v_{0};
};

// A cumulative histogram with fixed upper bounds (seconds, bytes, ...).
class Histogram {
public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  [[nodiscard]] const std::vector<double>& bounds() const { return bounds_; }
  [[nodiscard]] std::vector<std::uint64_t> bucket_counts() const;  // non-cumulative, +Inf last
  [[nodiscard]] double sum() const { return sum_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }

private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<double> sum_{0};
  std::atomic<std::uint64_t> count_{0};
};

// Default latency buckets in seconds, 100 µs .. 10 s.
std::vector<double> latency_buckets();

class Metrics {
public:
  // Returns the series for (name, labels), creating it on first use. The same name must keep
  // one kind and help text. References stay valid for the registry's lifetime. Names and label
  // names must be valid Prometheus names (std::logic_error otherwise: one bad name would make
  // the whole scrape fail). Histogram bounds are sorted and deduplicated; +Inf is implicit.
  Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& histogram(std::string_view name, std::string_view help,
                       std::vector<double> bounds = latency_buckets(), const Labels& labels = {});
  // A gauge computed when scraped (e.g. rooms loaded, queue depth). Must be thread-safe or
  // only read loop-owned state (rendering runs on the loop). It runs under the registry's lock:
  // it must not call back into this registry. If the same (name, labels) is also a set gauge,
  // only the gauge_fn is rendered (a warning is logged).
  void gauge_fn(std::string_view name, std::string_view help, std::function<double()> fn,
                const Labels& labels = {});

  [[nodiscard]] std::string render() const;

private:
  enum class Kind { counter, gauge, histogram };
  struct Family {
    Kind kind;
    std::string help;
    std::map<std::string, std::unique_ptr<Counter>> counters;  // key: rendered labels
    std::map<std::string, std::unique_ptr<Gauge>> gauges;
    std::map<std::string, std::function<double()>> gauge_fns;
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
  };
  Family& family(std::string_view name, std::string_view help, Kind kind);
  mutable std::mutex mutex_;  // registration may happen from plugin start on any thread
  std::map<std::string, Family, std::less<>> families_;
};

// Renders labels as {a="x",b="y"} with Prometheus escaping ("" for no labels).
std::string render_labels(const Labels& labels);

}  // namespace salon
