// SPDX-License-Identifier: GPL-3.0-or-later
#include "xmpp/asio_connection.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "core/log.hpp"

namespace salon::xmpp {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

AsioConnection::AsioConnection(gloox::ConnectionDataHandler* handler, asio::io_context& io,
                               std::string host, std::uint16_t port)
    : gloox::ConnectionBase(handler), io_(io), resolver_(io) {
  m_server = std::move(host);
  m_port = port;
}

AsioConnection::~AsioConnection() {
  ++*generation_;
  if (socket_) {
    boost::system::error_code ec;
    socket_->close(ec);
  }
}

gloox::ConnectionError AsioConnection::connect() {
  if (m_state != gloox::StateDisconnected) return gloox::ConnNoError;
  m_state = gloox::StateConnecting;
  const unsigned gen = ++*generation_;
  socket_ = std::make_unique<tcp::socket>(io_);
  write_queue_.clear();
  queued_bytes_ = 0;
  inflight_bytes_ = 0;
  overflowed_ = false;
  writing_ = false;
  auto alive = generation_;
  resolver_.async_resolve(
      m_server, std::to_string(m_port),
      [this, gen, alive](const boost::system::error_code& ec,
                         const tcp::resolver::results_type& r) {
        if (*alive != gen) return;
        if (ec) {
          log::warn("link", "cannot resolve {}: {}", m_server, ec.message());
          fail(gloox::ConnDnsError);
          return;
        }
        asio::async_connect(
            *socket_, r,
            [this, gen, alive](const boost::system::error_code& ec2, const tcp::endpoint&) {
              if (*alive != gen) return;
              if (ec2) {
                log::debug("link", "connect to {}:{} failed: {}", m_server, m_port, ec2.message());
                fail(gloox::ConnConnectionRefused);
                return;
              }
              boost::system::error_code ignore;
              socket_->set_option(tcp::no_delay(true), ignore);
              socket_->set_option(asio::socket_base::keep_alive(true), ignore);
              m_state = gloox::StateConnected;
              start_read();
              if (m_handler) m_handler->handleConnect(this);
            });
      });
  return gloox::ConnNoError;
}

void AsioConnection::start_read() {
  const unsigned gen = *generation_;
  auto alive = generation_;
  socket_->async_read_some(
      asio::buffer(read_buf_),
      [this, gen, alive](const boost::system::error_code& ec, std::size_t n) {
        if (*alive != gen) return;
        if (ec) {
          log::debug("link", "read ended: {}", ec.message());
          fail(ec == asio::error::eof ? gloox::ConnStreamClosed : gloox::ConnIoError);
          return;
        }
        total_in_ += static_cast<long>(n);
        if (on_bytes_in) on_bytes_in(n);
        // The handler may disconnect (and even reconnect) us; re-check the generation after.
        if (m_handler) {
          const std::string_view chunk(read_buf_.data(), n);
          if (filter) {
            std::string pass;
            filter(chunk, pass);
            if (*alive == gen && !pass.empty()) m_handler->handleReceivedData(this, pass);
          } else {
            m_handler->handleReceivedData(this, std::string(chunk));
          }
        }
        if (*alive == gen && m_state == gloox::StateConnected) start_read();
      });
}

bool AsioConnection::send(const std::string& data) {
  if (m_state != gloox::StateConnected || !socket_ || overflowed_) return false;
  if (max_queued_bytes && queued_bytes() + data.size() > max_queued_bytes) {
    overflowed_ = true;
    if (on_overflow) on_overflow();
    asio::post(io_, [this, gen = *generation_, alive = generation_] {
      if (*alive == gen) fail(gloox::ConnIoError);
    });
    return false;
  }
  queued_bytes_ += data.size();
  write_queue_.push_back(data);
  if (!writing_) start_write();
  return true;
}

void AsioConnection::start_write() {
  inflight_bytes_ = 0;
  if (write_queue_.empty()) {
    writing_ = false;
    return;
  }
  writing_ = true;
  // Coalesce everything queued into one write: under fan-out load this turns thousands of
  // small stanzas into a few large writes.
  auto batch = std::make_shared<std::string>();
  batch->reserve(queued_bytes_);
  while (!write_queue_.empty()) {
    *batch += write_queue_.front();
    write_queue_.pop_front();
  }
  inflight_bytes_ = batch->size();
  queued_bytes_ = 0;
  const unsigned gen = *generation_;
  auto alive = generation_;
  asio::async_write(*socket_, asio::buffer(*batch),
                    [this, gen, alive, batch](const boost::system::error_code& ec, std::size_t n) {
                      if (*alive != gen) return;
                      if (ec) {
                        log::debug("link", "write failed: {}", ec.message());
                        fail(gloox::ConnIoError);
                        return;
                      }
                      total_out_ += static_cast<long>(n);
                      start_write();
                    });
}

void AsioConnection::fail(gloox::ConnectionError reason) {
  if (m_state == gloox::StateDisconnected) return;
  ++*generation_;
  boost::system::error_code ignore;
  if (socket_) socket_->close(ignore);
  m_state = gloox::StateDisconnected;
  writing_ = false;
  write_queue_.clear();
  queued_bytes_ = 0;
  inflight_bytes_ = 0;
  overflowed_ = false;
  if (m_handler) m_handler->handleDisconnect(this, reason);
}

gloox::ConnectionError AsioConnection::recv(int /*timeout*/) {
  // Reads are driven by the io_context; nothing to poll.
  return m_state == gloox::StateConnected ? gloox::ConnNoError : gloox::ConnNotConnected;
}

gloox::ConnectionError AsioConnection::receive() {
  return recv(-1);
}

void AsioConnection::disconnect() {
  // Flush what is queued (e.g. </stream:stream>) synchronously-ish: a best-effort blocking
  // write with the socket still open would block the loop, so queued bytes are dropped.
  ++*generation_;
  boost::system::error_code ignore;
  if (socket_) {
    socket_->shutdown(tcp::socket::shutdown_both, ignore);
    socket_->close(ignore);
  }
  resolver_.cancel();
  m_state = gloox::StateDisconnected;
  writing_ = false;
  write_queue_.clear();
  queued_bytes_ = 0;
  inflight_bytes_ = 0;
  overflowed_ = false;
}

void AsioConnection::getStatistics(long int& totalIn, long int& totalOut) {
  totalIn = total_in_;
  totalOut = total_out_;
}

gloox::ConnectionBase* AsioConnection::newInstance() const {
  return new AsioConnection(m_handler, io_, m_server, static_cast<std::uint16_t>(m_port));
}

}  // namespace salon::xmpp
