// SPDX-License-Identifier: GPL-3.0-or-later
// core/metrics: exact Prometheus text exposition (format 0.0.4).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/metrics.hpp"

namespace salon {
namespace {

TEST(Metrics, EmptyRegistryRendersNothing) {
  EXPECT_EQ(Metrics{}.render(), "");
}

TEST(Metrics, CounterRendersExactly) {
  Metrics m;
  m.counter("salon_things_total", "Things done").inc();
  m.counter("salon_things_total", "Things done").inc(2);  // same series
  EXPECT_EQ(m.render(),
            "# HELP salon_things_total Things done\n"
            "# TYPE salon_things_total counter\n"
            "salon_things_total 3\n");
}

TEST(Metrics, LabelledSeriesShareOneFamilyHeader) {
  Metrics m;
  m.counter("salon_stanzas_in_total", "Stanzas in", {{"kind", "message"}}).inc(5);
  m.counter("salon_stanzas_in_total", "Stanzas in", {{"kind", "iq"}}).inc(1);
  m.counter("salon_stanzas_in_total", "Stanzas in", {{"kind", "presence"}, {"dir", "x"}});
  EXPECT_EQ(m.render(),
            "# HELP salon_stanzas_in_total Stanzas in\n"
            "# TYPE salon_stanzas_in_total counter\n"
            "salon_stanzas_in_total{kind=\"iq\"} 1\n"
            "salon_stanzas_in_total{kind=\"message\"} 5\n"
            "salon_stanzas_in_total{kind=\"presence\",dir=\"x\"} 0\n");
}

TEST(Metrics, FamiliesAreSortedByName) {
  Metrics m;
  m.gauge("salon_b", "B").set(1);
  m.counter("salon_a_total", "A").inc();
  EXPECT_EQ(m.render(),
            "# HELP salon_a_total A\n# TYPE salon_a_total counter\nsalon_a_total 1\n"
            "# HELP salon_b B\n# TYPE salon_b gauge\nsalon_b 1\n");
}

TEST(Metrics, GaugeRendersIntegersAndFractions) {
  Metrics m;
  auto& g = m.gauge("salon_lag_seconds", "Loop lag");
  g.set(2.5);
  EXPECT_EQ(m.render(),
            "# HELP salon_lag_seconds Loop lag\n# TYPE salon_lag_seconds gauge\n"
            "salon_lag_seconds 2.5\n");
  g.set(3);
  g.add(-5);
  EXPECT_EQ(g.value(), -2);
  EXPECT_NE(m.render().find("\nsalon_lag_seconds -2\n"), std::string::npos);
}

std::string rendered_value(double v) {
  Metrics m;
  m.gauge("g", "h").set(v);
  const std::string out = m.render();
  const std::string prefix = "# HELP g h\n# TYPE g gauge\ng ";
  EXPECT_EQ(out.rfind(prefix, 0), 0u) << out;
  return out.substr(prefix.size(), out.size() - prefix.size() - 1);
}

TEST(Metrics, SpecialAndLargeValuesUsePrometheusSpellings) {
  EXPECT_EQ(rendered_value(0), "0");
  EXPECT_EQ(rendered_value(0.1), "0.1");
  EXPECT_EQ(rendered_value(-3), "-3");
  EXPECT_EQ(rendered_value(123456789012345.0), "123456789012345");
  EXPECT_EQ(std::stod(rendered_value(1e20)), 1e20);  // no integer overflow
  EXPECT_EQ(std::stod(rendered_value(-1e300)), -1e300);
  EXPECT_EQ(rendered_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(rendered_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(rendered_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(Metrics, HistogramRendersCumulativeBucketsSumAndCount) {
  Metrics m;
  auto& h = m.histogram("salon_join_seconds", "Join time", {1, 0.5});  // unsorted on purpose
  h.observe(0.25);
  h.observe(0.5);  // a bucket is "less than or equal"
  h.observe(0.75);
  h.observe(4);
  EXPECT_EQ(m.render(),
            "# HELP salon_join_seconds Join time\n"
            "# TYPE salon_join_seconds histogram\n"
            "salon_join_seconds_bucket{le=\"0.5\"} 2\n"
            "salon_join_seconds_bucket{le=\"1\"} 3\n"
            "salon_join_seconds_bucket{le=\"+Inf\"} 4\n"
            "salon_join_seconds_sum 5.5\n"
            "salon_join_seconds_count 4\n");
}

TEST(Metrics, HistogramWithLabelsPutsLeLast) {
  Metrics m;
  m.histogram("salon_http_seconds", "d", {0.1}, {{"route", "/x"}}).observe(0.05);
  EXPECT_EQ(m.render(),
            "# HELP salon_http_seconds d\n"
            "# TYPE salon_http_seconds histogram\n"
            "salon_http_seconds_bucket{route=\"/x\",le=\"0.1\"} 1\n"
            "salon_http_seconds_bucket{route=\"/x\",le=\"+Inf\"} 1\n"
            "salon_http_seconds_sum{route=\"/x\"} 0.05\n"
            "salon_http_seconds_count{route=\"/x\"} 1\n");
}

TEST(Metrics, HistogramBoundsAreCleanedAndNaNIsNotFast) {
  Histogram h({0.5, 0.1, 0.5, std::numeric_limits<double>::infinity(),
               std::numeric_limits<double>::quiet_NaN()});
  EXPECT_EQ(h.bounds(), (std::vector<double>{0.1, 0.5}));
  h.observe(std::numeric_limits<double>::quiet_NaN());
  h.observe(0.1);
  EXPECT_EQ(h.bucket_counts(), (std::vector<std::uint64_t>{1, 0, 1}));  // NaN counted in +Inf
  EXPECT_EQ(h.count(), 2u);
}

TEST(Metrics, DefaultLatencyBuckets) {
  Metrics m;
  m.histogram("salon_x_seconds", "x").observe(0.003);
  const std::string out = m.render();
  std::size_t buckets = 0;
  for (std::size_t pos = 0; (pos = out.find("_bucket{", pos)) != std::string::npos; ++pos)
    ++buckets;
  EXPECT_EQ(buckets, latency_buckets().size() + 1);
  EXPECT_NE(out.find("salon_x_seconds_bucket{le=\"0.0025\"} 0\n"), std::string::npos) << out;
  EXPECT_NE(out.find("salon_x_seconds_bucket{le=\"0.005\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("salon_x_seconds_bucket{le=\"0.0001\"} 0\n"), std::string::npos) << out;
}

TEST(Metrics, LabelValuesAreEscaped) {
  Metrics m;
  m.counter("salon_x_total", "x", {{"path", "a\\b\"c\nd"}}).inc();
  EXPECT_NE(m.render().find("salon_x_total{path=\"a\\\\b\\\"c\\nd\"} 1\n"), std::string::npos)
      << m.render();
  EXPECT_EQ(render_labels({{"a", "1"}, {"b", "\""}}), "{a=\"1\",b=\"\\\"\"}");
  EXPECT_EQ(render_labels({}), "");
}

TEST(Metrics, HelpTextIsEscaped) {
  Metrics m;
  m.gauge("salon_x", "first line\nsecond \\ line").set(1);
  EXPECT_EQ(m.render(),
            "# HELP salon_x first line\\nsecond \\\\ line\n# TYPE salon_x gauge\nsalon_x 1\n");
}

TEST(Metrics, GaugeFnIsEvaluatedAtRender) {
  Metrics m;
  int calls = 0;
  double rooms = 3;
  m.gauge_fn("salon_rooms_loaded", "Rooms", [&] {
    ++calls;
    return rooms;
  });
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(m.render(),
            "# HELP salon_rooms_loaded Rooms\n# TYPE salon_rooms_loaded gauge\n"
            "salon_rooms_loaded 3\n");
  rooms = 7.25;
  EXPECT_NE(m.render().find("\nsalon_rooms_loaded 7.25\n"), std::string::npos);
  EXPECT_EQ(calls, 2);
}

TEST(Metrics, GaugeAndGaugeFnForTheSameSeriesRenderOnce) {
  Metrics m;
  m.gauge("salon_rooms_loaded", "Rooms").set(1);
  m.gauge_fn("salon_rooms_loaded", "Rooms", [] { return 2.0; });
  m.gauge("salon_rooms_loaded", "Rooms", {{"shard", "a"}}).set(5);
  EXPECT_EQ(m.render(),
            "# HELP salon_rooms_loaded Rooms\n# TYPE salon_rooms_loaded gauge\n"
            "salon_rooms_loaded{shard=\"a\"} 5\n"
            "salon_rooms_loaded 2\n");
}

TEST(Metrics, SameSeriesIsTheSameObject) {
  Metrics m;
  EXPECT_EQ(&m.counter("c_total", "h", {{"a", "1"}}), &m.counter("c_total", "h", {{"a", "1"}}));
  EXPECT_NE(&m.counter("c_total", "h", {{"a", "1"}}), &m.counter("c_total", "h", {{"a", "2"}}));
  EXPECT_EQ(&m.histogram("h_seconds", "h"), &m.histogram("h_seconds", "h"));
}

TEST(Metrics, OneNameKeepsOneKind) {
  Metrics m;
  m.counter("salon_x", "x");
  EXPECT_THROW(m.gauge("salon_x", "x"), std::logic_error);
  EXPECT_THROW(m.histogram("salon_x", "x"), std::logic_error);
  EXPECT_THROW(m.gauge_fn("salon_x", "x", [] { return 0.0; }), std::logic_error);
}

TEST(Metrics, InvalidNamesAreRejected) {
  Metrics m;
  EXPECT_THROW(m.counter("salon-x_total", "x"), std::logic_error);
  EXPECT_THROW(m.counter("1salon", "x"), std::logic_error);
  EXPECT_THROW(m.counter("", "x"), std::logic_error);
  EXPECT_THROW(m.counter("salon_total", "x", {{"a-b", "1"}}), std::logic_error);
  EXPECT_THROW(m.counter("salon_total", "x", {{"__name__", "1"}}), std::logic_error);
  EXPECT_THROW(m.counter("salon_total", "x", {{"a:b", "1"}}), std::logic_error);
  EXPECT_THROW(m.histogram("salon_seconds", "x", {1}, {{"le", "1"}}), std::logic_error);
  EXPECT_NO_THROW(m.counter("salon:rule_total", "x", {{"_a1", "any \"value\""}}));
  EXPECT_EQ(m.render().find("salon-x"), std::string::npos);
}

TEST(Metrics, CountersAreThreadSafe) {
  Metrics m;
  auto& c = m.counter("salon_x_total", "x");
  auto& h = m.histogram("salon_y_seconds", "y", {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50000; ++i) {
        c.inc();
        h.observe(0.5);
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(c.value(), 200000u);
  EXPECT_EQ(h.count(), 200000u);
  EXPECT_EQ(h.sum(), 100000.0);
  EXPECT_EQ(h.bucket_counts(), (std::vector<std::uint64_t>{200000, 0}));
}

}  // namespace
}  // namespace salon
