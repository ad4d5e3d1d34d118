// SPDX-License-Identifier: GPL-3.0-or-later
// Server: the listening socket and the connection registry. Connections themselves (and
// Beast) are in session.cpp.
#include <boost/asio/steady_timer.hpp>

#include <vector>

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "http/detail.hpp"

namespace salon::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace detail {

Core::Core(net::io_context& io_, Metrics& metrics_, Limits limits_)
    : io(io_),
      metrics(metrics_),
      limits(limits_),
      open_connections(std::make_shared<std::atomic<std::int64_t>>(0)),
      rejected_connections(
          metrics_.counter("salon_http_rejected_connections_total",
                           "HTTP connections closed at once because max_connections were open")) {
  metrics.gauge_fn("salon_http_open_connections", "HTTP connections currently open",
                   [open = open_connections] { return static_cast<double>(open->load()); });
}

void Core::record(const std::string& route, int status, std::chrono::steady_clock::duration took) {
  auto& counter = requests_[{route, status}];
  if (!counter) {
    counter = &metrics.counter("salon_http_requests_total",
                               "HTTP requests answered, by route pattern and status code",
                               {{"route", route}, {"code", std::to_string(status)}});
  }
  counter->inc();
  auto& hist = durations_[route];
  if (!hist) {
    hist = &metrics.histogram("salon_http_request_duration_seconds",
                              "Time from a request's head being read to its response being "
                              "written, by route pattern",
                              latency_buckets(), {{"route", route}});
  }
  hist->observe(std::chrono::duration<double>(took).count());
}

}  // namespace detail

namespace {

// The accept loop. Shared with its pending handler so that ~Server may run at any time.
class Listener : public std::enable_shared_from_this<Listener> {
public:
  Listener(std::shared_ptr<detail::Core> core, tcp::acceptor acceptor)
      : core_(std::move(core)), acceptor_(std::move(acceptor)), retry_(core_->io) {}

  void accept() {
    acceptor_.async_accept(
        [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
          self->on_accept(ec, std::move(socket));
        });
  }

  void close() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    retry_.cancel();
  }

  [[nodiscard]] std::uint16_t port() const {
    boost::system::error_code ec;
    const auto ep = acceptor_.local_endpoint(ec);
    return ec ? 0 : ep.port();
  }

private:
  void on_accept(boost::system::error_code ec, tcp::socket socket) {
    if (core_->stopped || ec == net::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors or memory: spinning on accept would burn the loop; wait a little.
      const bool resource = ec == net::error::no_descriptors || ec == net::error::no_buffer_space ||
                            ec == net::error::no_memory || ec.value() == ENFILE;
      log::error("http", "accept failed: {}{}", ec.message(),
                 resource ? " (retrying in 100 ms)" : "");
      if (resource) {
        retry_.expires_after(std::chrono::milliseconds(100));
        retry_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
          if (!wait_ec && !self->core_->stopped) self->accept();
        });
        return;
      }
    } else if (core_->connections.size() >= core_->limits.max_connections) {
      core_->rejected_connections.inc();
      log::warn("http", "{} connections open (max_connections); closing a new one",
                core_->connections.size());
    } else {
      detail::serve(core_, std::move(socket));
    }
    accept();
  }

  std::shared_ptr<detail::Core> core_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_;
};

}  // namespace

class Server::Impl {
public:
  std::shared_ptr<detail::Core> core;
  std::shared_ptr<Listener> listener;
};

Server::Server(net::io_context& io, Metrics& metrics, Limits limits)
    : impl_(std::make_unique<Impl>()) {
  impl_->core = std::make_shared<detail::Core>(io, metrics, limits);
}

Server::~Server() {
  stop();
}

void Server::route(std::string_view method, std::string_view pattern, Handler handler,
                   Guard guard) {
  impl_->core->router.add(method, pattern, std::move(handler), std::move(guard));
}

std::optional<std::string> Server::listen(const std::string& address, std::uint16_t port) {
  if (impl_->listener) return "already listening";
  boost::system::error_code ec;
  const auto ip = net::ip::make_address(address, ec);
  if (ec) return "invalid listen address '" + address + "': " + ec.message();
  const tcp::endpoint ep(ip, port);
  const std::string where = ep.address().to_string() + ":" + std::to_string(port);
  tcp::acceptor acceptor(impl_->core->io);
  if (acceptor.open(ep.protocol(), ec); ec) return "socket for " + where + ": " + ec.message();
  // Allows a quick restart while old connections sit in TIME_WAIT.
  acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (acceptor.bind(ep, ec); ec) return "bind " + where + ": " + ec.message();
  if (acceptor.listen(net::socket_base::max_listen_connections, ec); ec)
    return "listen " + where + ": " + ec.message();
  impl_->core->stopped = false;
  impl_->listener = std::make_shared<Listener>(impl_->core, std::move(acceptor));
  impl_->listener->accept();
  log::info("http", "listening on http://{}:{}", ep.address().to_string(), impl_->listener->port());
  return std::nullopt;
}

std::uint16_t Server::port() const {
  return impl_->listener ? impl_->listener->port() : 0;
}

void Server::stop() {
  auto& core = *impl_->core;
  core.stopped = true;
  if (impl_->listener) {
    impl_->listener->close();
    impl_->listener.reset();
  }
  // Copy first: closing may destroy a connection, which unregisters itself from the map.
  std::vector<std::shared_ptr<detail::Connection>> open;
  for (auto& [ptr, weak] : core.connections) {
    if (auto conn = weak.lock()) open.push_back(std::move(conn));
  }
  for (auto& conn : open)
    conn->close();
}

}  // namespace salon::http
