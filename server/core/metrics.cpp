// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/log.hpp"

namespace salon {

void Gauge::add(double d) {
  double cur = v_.load(std::memory_order_relaxed);
  while (!v_.compare_exchange_weak(cur, cur + d, std::memory_order_relaxed)) {
  }
}

namespace {
// Sorted, unique, finite: +Inf is always the implicit last bucket, and a repeated or NaN bound
// would render a duplicate or unparsable `le` series.
std::vector<double> clean_bounds(std::vector<double> b) {
  b.erase(std::remove_if(b.begin(), b.end(), [](double x) { return !std::isfinite(x); }), b.end());
  std::sort(b.begin(), b.end());
  b.erase(std::unique(b.begin(), b.end()), b.end());
  return b;
}
}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(clean_bounds(std::move(bounds))),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {}

void Histogram::observe(double v) {
  // First bound >= v (buckets are "less than or equal"). Written as !(b >= v) so that NaN
  // lands in +Inf, as in the Go client, rather than in the first (fastest) bucket.
  const auto it =
      std::partition_point(bounds_.begin(), bounds_.end(), [v](double b) { return !(b >= v); });
  buckets_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  double cur = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::bucket_counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

std::vector<double> latency_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

namespace {
std::string escape_label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

// Go's ParseFloat spellings for the special values; integers without a fraction. The range
// check comes first: casting NaN, Inf or a huge double to an integer is undefined behaviour.
std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v < 1e15 && v > -1e15 && v == std::trunc(v))
    return fmt::format("{}", static_cast<std::int64_t>(v));
  return fmt::format("{}", v);
}

// HELP text escapes backslash and newline (exposition format 0.0.4).
std::string escape_help(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

bool valid_name(std::string_view n, bool colon_ok) {
  if (n.empty() || (n[0] >= '0' && n[0] <= '9')) return false;
  return std::all_of(n.begin(), n.end(), [colon_ok](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           (colon_ok && c == ':');
  });
}

// A bad name makes Prometheus reject the whole scrape, so it is a programming error here.
void check_names(std::string_view name, const Labels& labels, bool histogram) {
  if (!valid_name(name, true))
    throw std::logic_error(fmt::format("invalid metric name '{}'", name));
  for (const auto& [key, value] : labels) {
    if (!valid_name(key, false) || key.rfind("__", 0) == 0 || (histogram && key == "le"))
      throw std::logic_error(fmt::format("metric {}: invalid label name '{}'", name, key));
  }
}

// The same series as both a set gauge and a gauge_fn would be rendered twice, which a scraper
// rejects as a duplicate sample; the gauge_fn wins and the set gauge is not rendered.
void warn_gauge_twice(std::string_view name, const std::string& key) {
  log::warn("metrics",
            "{}{} is registered both as a gauge and as a gauge_fn; only the gauge_fn "
            "is exported",
            name, key);
}

std::string with_label(const std::string& rendered, std::string_view key, std::string_view val) {
  const std::string extra = fmt::format("{}=\"{}\"", key, val);
  if (rendered.empty()) return "{" + extra + "}";
  return rendered.substr(0, rendered.size() - 1) + "," + extra + "}";
}
}  // namespace

std::string render_labels(const Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ',';
    out += fmt::format("{}=\"{}\"", labels[i].first, escape_label(labels[i].second));
  }
  return out + "}";
}

Metrics::Family& Metrics::family(std::string_view name, std::string_view help, Kind kind) {
  auto it = families_.find(name);
  if (it == families_.end())
    it =
        families_.emplace(std::string(name), Family{kind, std::string(help), {}, {}, {}, {}}).first;
  else if (it->second.kind != kind)
    throw std::logic_error(fmt::format("metric {} registered with two kinds", name));
  return it->second;
}

Counter& Metrics::counter(std::string_view name, std::string_view help, const Labels& labels) {
  check_names(name, labels, false);
  std::lock_guard lock(mutex_);
  auto& slot = family(name, help, Kind::counter).counters[render_labels(labels)];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Metrics::gauge(std::string_view name, std::string_view help, const Labels& labels) {
  check_names(name, labels, false);
  std::lock_guard lock(mutex_);
  auto& f = family(name, help, Kind::gauge);
  const std::string key = render_labels(labels);
  if (f.gauge_fns.count(key)) warn_gauge_twice(name, key);
  auto& slot = f.gauges[key];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& Metrics::histogram(std::string_view name, std::string_view help,
                              std::vector<double> bounds, const Labels& labels) {
  check_names(name, labels, true);
  std::lock_guard lock(mutex_);
  auto& slot = family(name, help, Kind::histogram).histograms[render_labels(labels)];
  if (!slot) slot = std::make_unique<Histogram>(std::move(bounds));
  return *slot;
}

void Metrics::gauge_fn(std::string_view name, std::string_view help, std::function<double()> fn,
                       const Labels& labels) {
  check_names(name, labels, false);
  std::lock_guard lock(mutex_);
  auto& f = family(name, help, Kind::gauge);
  const std::string key = render_labels(labels);
  if (f.gauges.count(key)) warn_gauge_twice(name, key);
  f.gauge_fns[key] = std::move(fn);
}

std::string Metrics::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, f] : families_) {
    static constexpr std::string_view kinds[] = {"counter", "gauge", "histogram"};
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape_help(f.help), name,
                       kinds[static_cast<int>(f.kind)]);
    for (const auto& [l, c] : f.counters)
      out += fmt::format("{}{} {}\n", name, l, c->value());
    for (const auto& [l, g] : f.gauges) {
      if (!f.gauge_fns.count(l)) out += fmt::format("{}{} {}\n", name, l, format_value(g->value()));
    }
    for (const auto& [l, fn] : f.gauge_fns)
      out += fmt::format("{}{} {}\n", name, l, format_value(fn()));
    for (const auto& [l, h] : f.histograms) {
      const auto counts = h->bucket_counts();
      std::uint64_t cum = 0;
      for (std::size_t i = 0; i < counts.size(); ++i) {
        cum += counts[i];
        const std::string le = i < h->bounds().size() ? format_value(h->bounds()[i]) : "+Inf";
        out += fmt::format("{}_bucket{} {}\n", name, with_label(l, "le", le), cum);
      }
      out += fmt::format("{}_sum{} {}\n{}_count{} {}\n", name, l, format_value(h->sum()), name, l,
                         h->count());
    }
  }
  return out;
}

}  // namespace salon
