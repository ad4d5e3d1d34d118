// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to server/http: the state a Server shares with its connections. Asio only (no
// Beast), so server.cpp stays light and session.cpp is the one heavy translation unit.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "http/http.hpp"
#include "http/router.hpp"

namespace salon {
class Counter;
class Histogram;
}  // namespace salon

namespace salon::http::detail {

// A live connection as the server sees it, so that stop() can close it.
class Connection {
public:
  virtual ~Connection() = default;
  virtual void close() = 0;
};

// Shared by the Server and its connections (by shared_ptr), so that a connection finishing
// after ~Server (e.g. a handler answering late) still finds its limits and metrics. Touched on
// the event loop only. The Metrics registry must outlive it (it outlives the loop in salond).
struct Core {
  Core(boost::asio::io_context& io, Metrics& metrics, Limits limits);

  boost::asio::io_context& io;
  Metrics& metrics;
  Limits limits;
  Router router;
  bool stopped = false;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections;
  // Read by a gauge_fn at scrape time. Not a Gauge& in the registry: connections are destroyed
  // in destructors, possibly while an io_context is torn down after the registry.
  std::shared_ptr<std::atomic<std::int64_t>> open_connections;
  Counter& rejected_connections;

  // True when called on the loop thread.
  [[nodiscard]] bool on_loop() const { return io.get_executor().running_in_this_thread(); }
  // One answered request: salon_http_requests_total{route,code} and
  // salon_http_request_duration_seconds{route}. `route` is the pattern (bounded cardinality).
  void record(const std::string& route, int status, std::chrono::steady_clock::duration took);

private:
  std::map<std::pair<std::string, int>, Counter*> requests_;
  std::map<std::string, Histogram*> durations_;
};

// Takes over an accepted socket and serves HTTP on it until it closes (session.cpp).
void serve(const std::shared_ptr<Core>& core, boost::asio::ip::tcp::socket socket);

}  // namespace salon::http::detail
