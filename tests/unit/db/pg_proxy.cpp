// SPDX-License-Identifier: GPL-3.0-or-later
#include "pg_proxy.hpp"

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp misses it under C++20

#include <boost/asio.hpp>

#include <array>
#include <future>
#include <thread>
#include <vector>

#include "db/conninfo.hpp"

namespace salon::db::test {
namespace asio = boost::asio;
using asio::ip::tcp;
using Generic = asio::generic::stream_protocol;

namespace {

Generic::endpoint target_endpoint(const std::string& conninfo) {
  const std::string host = conninfo_get(conninfo, "host").value_or("/var/run/postgresql");
  const std::string port = conninfo_get(conninfo, "port").value_or("5432");
  if (host.starts_with('/'))
    return Generic::endpoint(asio::local::stream_protocol::endpoint(host + "/.s.PGSQL." + port));
  const std::string addr = conninfo_get(conninfo, "hostaddr").value_or(host);
  asio::io_context io;
  tcp::resolver resolver(io);
  const auto results = resolver.resolve(addr, port);
  return Generic::endpoint(results.begin()->endpoint());
}

struct Session : std::enable_shared_from_this<Session> {
  Session(tcp::socket c, Generic::socket s) : client(std::move(c)), server(std::move(s)) {}
  tcp::socket client;
  Generic::socket server;
  std::array<char, 16384> up{}, down{};

  template <typename From, typename To>
  void pump(From& from, To& to, std::array<char, 16384>& buf) {
    from.async_read_some(asio::buffer(buf), [self = shared_from_this(), &from, &to, &buf](
                                                boost::system::error_code ec, std::size_t n) {
      if (ec) return self->close();
      asio::async_write(to, asio::buffer(buf.data(), n),
                        [self, &from, &to, &buf](boost::system::error_code ec2, std::size_t) {
                          if (ec2) return self->close();
                          self->pump(from, to, buf);
                        });
    });
  }
  void close() {
    boost::system::error_code ignored;
    client.close(ignored);
    server.close(ignored);
  }
};

}  // namespace

struct PgProxy::Impl {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard = asio::make_work_guard(io);
  std::thread thread;
  Generic::endpoint target;
  tcp::acceptor acceptor{io};
  std::uint16_t port = 0;
  std::vector<std::weak_ptr<Session>> sessions;

  void accept() {
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket client) {
      if (ec) return;  // closed by stop()
      Generic::socket server(io);
      boost::system::error_code cec;
      server.connect(target, cec);
      if (!cec) {
        auto s = std::make_shared<Session>(std::move(client), std::move(server));
        sessions.push_back(s);
        s->pump(s->client, s->server, s->up);
        s->pump(s->server, s->client, s->down);
      }
      accept();
    });
  }

  // Runs `f` on the proxy's thread and waits for it.
  template <typename F>
  void on_thread(F f) {
    std::promise<void> done;
    asio::post(io, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }
};

PgProxy::PgProxy(const std::string& target) : impl_(std::make_unique<Impl>()) {
  impl_->target = target_endpoint(target);
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

PgProxy::~PgProxy() {
  stop();
  impl_->guard.reset();
  impl_->io.stop();
  impl_->thread.join();
}

void PgProxy::start() {
  impl_->on_thread([this] {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), impl_->port);
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    impl_->acceptor.bind(ep);
    impl_->acceptor.listen();
    impl_->port = impl_->acceptor.local_endpoint().port();
    impl_->accept();
  });
}

void PgProxy::stop() {
  impl_->on_thread([this] {
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    for (auto& w : impl_->sessions)
      if (auto s = w.lock()) s->close();
    impl_->sessions.clear();
  });
}

std::uint16_t PgProxy::port() const {
  return impl_->port;
}

std::string PgProxy::through(const std::string& conninfo) const {
  return conninfo_with(
      conninfo,
      {{"host", "127.0.0.1"}, {"hostaddr", "127.0.0.1"}, {"port", std::to_string(impl_->port)}});
}

std::uint16_t unused_port() {
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

}  // namespace salon::db::test
