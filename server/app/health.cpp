// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/health.hpp"

#include <fmt/format.h>

#include "app/notify.hpp"
#include "core/metrics.hpp"
#include "core/readiness.hpp"
#include "db/database.hpp"
#include "http/http.hpp"
#include "xmpp/link.hpp"

namespace salon::app {

namespace {
constexpr std::chrono::milliseconds kTick{250};
}

Health::Health(boost::asio::io_context& io, Metrics& metrics, http::Server& http, xmpp::Link& link,
               db::Database& database, Readiness& readiness)
    : timer_(io),
      lag_(metrics.gauge("salon_event_loop_lag_seconds",
                         "How late the event loop ran a 250 ms timer, last tick")),
      watchdog_interval_(watchdog_interval()) {
  http.route("GET", "/healthz", [](const http::Request&, http::Respond respond) {
    respond(http::Response{200, "text/plain; charset=utf-8", {}, "ok\n"});
  });
  // The XMPP link and PostgreSQL are critical (503 without either); plugins add theirs (the
  // email plugin's SMTP server) as degraded-only checks through the same registry.
  readiness.add("xmpp", true, [&link] {
    return link.ready() ? CheckResult{}
                        : CheckResult{CheckState::down, "the component link is not up"};
  });
  readiness.add("postgresql", true, [&database] {
    return database.healthy() ? CheckResult{}
                              : CheckResult{CheckState::down, "PostgreSQL does not answer"};
  });
  http.route("GET", "/readyz", [&readiness](const http::Request&, http::Respond respond) {
    auto r = readiness.report();
    respond(http::json(r.status, std::move(r.json)));
  });
  http.route("GET", "/metrics", [&metrics](const http::Request&, http::Respond respond) {
    respond(http::Response{200, "text/plain; version=0.0.4; charset=utf-8", {}, metrics.render()});
  });
  expected_ = std::chrono::steady_clock::now() + kTick;
  last_watchdog_ = std::chrono::steady_clock::now();
  tick();
}

void Health::tick() {
  timer_.expires_at(expected_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    const auto now = std::chrono::steady_clock::now();
    lag_.set(std::chrono::duration<double>(now - expected_).count());
    if (watchdog_interval_.count() > 0 && now - last_watchdog_ >= watchdog_interval_ / 2) {
      notify_watchdog();
      last_watchdog_ = now;
    }
    expected_ = now + kTick;
    tick();
  });
}

void Health::stop() {
  stopped_ = true;
  timer_.cancel();
}

}  // namespace salon::app
