// SPDX-License-Identifier: GPL-3.0-or-later
// The server side of an XEP-0114 component link, as an XMPP server would offer it: listens on
// loopback, accepts salond's connection, answers its stream header with a stream id, checks
// the handshake (hex SHA-1 of stream id + secret), then exchanges stanzas. Outgoing stanzas
// are coalesced into large writes; incoming bytes are read in large chunks and split into
// stanzas by StanzaScanner. XEP-0199 pings salond sends to the server are answered here.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "xml_scan.hpp"

namespace salon::bench {

class ComponentServer {
public:
  ComponentServer(boost::asio::io_context& io, std::string domain, std::string secret);

  [[nodiscard]] std::uint16_t port() const { return port_; }
  // Accepts one connection (salond's) and serves it until it closes.
  void start();
  // Queues a stanza; everything queued in one turn of the loop leaves in one write.
  void send(std::string_view xml);
  void close();

  [[nodiscard]] bool authenticated() const { return authenticated_; }
  [[nodiscard]] bool closed() const { return closed_; }
  [[nodiscard]] const std::string& failure() const { return failure_; }

  // Every stanza after the handshake (pings to the server excepted).
  std::function<void(const Stanza&)> on_stanza;
  // After each chunk of input is processed (a good moment to send more).
  std::function<void()> on_input_done;
  // Authentication succeeded, the link closed or failed.
  std::function<void()> on_state;

  std::uint64_t bytes_in = 0, bytes_out = 0, stanzas_in = 0, pings_answered = 0;

private:
  void read();
  void process();
  void handle(const Stanza& s);
  void schedule_flush();
  void flush();
  void fail(std::string why);

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::tcp::socket socket_;
  std::string domain_, secret_, stream_id_;
  std::uint16_t port_ = 0;
  StanzaScanner scanner_;
  std::string out_, writing_;
  bool write_pending_ = false, flush_posted_ = false;
  bool authenticated_ = false, closed_ = false;
  std::string failure_;
};

// Lower-case hex SHA-1 of `data` (the XEP-0114 handshake digest).
std::string sha1_hex(std::string_view data);

}  // namespace salon::bench
