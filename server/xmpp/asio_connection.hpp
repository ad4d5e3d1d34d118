// SPDX-License-Identifier: GPL-3.0-or-later
// A gloox ConnectionBase whose socket belongs to Boost.Asio: connect() starts an async connect
// and returns at once, reads are async and feed gloox's parser through
// ConnectionDataHandler::handleReceivedData, send() queues an async write. There is no recv()
// polling loop; everything runs on the io_context thread.
#pragma once

#include <gloox/connectionbase.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace salon::xmpp {

class AsioConnection final : public gloox::ConnectionBase {
public:
  AsioConnection(gloox::ConnectionDataHandler* handler, boost::asio::io_context& io,
                 std::string host, std::uint16_t port);
  ~AsioConnection() override;

  gloox::ConnectionError connect() override;
  gloox::ConnectionError recv(int timeout) override;
  bool send(const std::string& data) override;
  gloox::ConnectionError receive() override;
  void disconnect() override;
  void getStatistics(long int& totalIn, long int& totalOut) override;
  gloox::ConnectionBase* newInstance() const override;

  // Called with every chunk read, before gloox parses it (keepalive bookkeeping).
  std::function<void(std::size_t)> on_bytes_in;
  // When set, every chunk read goes through it and gloox parses only what it appends to `out`
  // (the link's StanzaFramer holds back partial and refuses over-limit stanzas).
  std::function<void(std::string_view in, std::string& out)> filter;
  // Bytes waiting to be written, the write in flight included. Past max_queued_bytes (0: no
  // bound) the peer is not reading: send() refuses and the connection is failed, from a
  // posted task so that no caller of send() sees the disconnect inside its own call.
  std::size_t max_queued_bytes = 0;
  std::function<void()> on_overflow;
  [[nodiscard]] std::size_t queued_bytes() const { return queued_bytes_ + inflight_bytes_; }

private:
  void start_read();
  void start_write();
  void fail(gloox::ConnectionError reason);

  boost::asio::io_context& io_;
  std::unique_ptr<boost::asio::ip::tcp::socket> socket_;
  boost::asio::ip::tcp::resolver resolver_;
  // Incremented on every connect/disconnect: callbacks of an older socket are ignored.
  std::shared_ptr<unsigned> generation_ = std::make_shared<unsigned>(0);
  std::array<char, 16384> read_buf_{};
  std::deque<std::string> write_queue_;
  std::size_t queued_bytes_ = 0;
  std::size_t inflight_bytes_ = 0;
  bool writing_ = false;
  bool overflowed_ = false;
  long total_in_ = 0, total_out_ = 0;
};

}  // namespace salon::xmpp
