// SPDX-License-Identifier: GPL-3.0-or-later
// /healthz, /readyz and /metrics, plus the loop's own vital signs: event-loop lag (a timer that
// measures how late it fires) and the systemd watchdog, which is fed from the loop so that a
// stuck loop gets salond restarted.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>

namespace salon {
class Metrics;
class Gauge;
class Readiness;
namespace http {
class Server;
}
namespace db {
class Database;
}
namespace xmpp {
class Link;
}
}  // namespace salon

namespace salon::app {

class Health {
public:
  // `readiness` outlives this object; the link and PostgreSQL are added to it here.
  Health(boost::asio::io_context& io, Metrics& metrics, http::Server& http, xmpp::Link& link,
         db::Database& database, Readiness& readiness);
  void stop();

private:
  void tick();
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point expected_;
  Gauge& lag_;
  std::chrono::microseconds watchdog_interval_{0};
  std::chrono::steady_clock::time_point last_watchdog_;
  bool stopped_ = false;
};

}  // namespace salon::app
