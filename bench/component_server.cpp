// SPDX-License-Identifier: GPL-3.0-or-later
#include "component_server.hpp"

#include <openssl/evp.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>

#include <random>

namespace salon::bench {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string sha1_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha1(), nullptr);
  std::string hex;
  for (unsigned i = 0; i < len; ++i)
    hex += fmt::format("{:02x}", md[i]);
  return hex;
}

ComponentServer::ComponentServer(asio::io_context& io, std::string domain, std::string secret)
    : io_(io),
      acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
      socket_(io),
      domain_(std::move(domain)),
      secret_(std::move(secret)) {
  port_ = acceptor_.local_endpoint().port();
  std::random_device rd;
  stream_id_ = fmt::format("{:08x}{:08x}", rd(), rd());
}

void ComponentServer::start() {
  acceptor_.async_accept(socket_, [this](const boost::system::error_code& ec) {
    if (ec) return fail("accept: " + ec.message());
    boost::system::error_code ignore;
    socket_.set_option(tcp::no_delay(true), ignore);
    // Large kernel buffers: salond's fan-out must never wait for us.
    socket_.set_option(asio::socket_base::receive_buffer_size(4 << 20), ignore);
    socket_.set_option(asio::socket_base::send_buffer_size(4 << 20), ignore);
    acceptor_.close(ignore);
    read();
  });
}

void ComponentServer::read() {
  auto space = scanner_.prepare();
  socket_.async_read_some(asio::buffer(space.data(), space.size()),
                          [this](const boost::system::error_code& ec, std::size_t n) {
                            if (ec) return fail(ec == asio::error::eof ? "" : ec.message());
                            bytes_in += n;
                            scanner_.commit(n);
                            process();
                            if (closed_) return;
                            if (on_input_done) on_input_done();
                            read();
                          });
}

void ComponentServer::process() {
  Stanza s;
  for (;;) {
    switch (scanner_.next(s)) {
      case StanzaScanner::Event::need_more: return;
      case StanzaScanner::Event::stream_close: return fail("salond closed the stream");
      case StanzaScanner::Event::stream_open:
        if (scanner_.header().attr("to") != domain_)
          return fail(fmt::format("stream header for '{}', expected '{}'",
                                  scanner_.header().attr("to"), domain_));
        send(
            fmt::format("<?xml version='1.0'?><stream:stream "
                        "xmlns:stream='http://etherx.jabber.org/streams' "
                        "xmlns='jabber:component:accept' from='{}' id='{}'>",
                        domain_, stream_id_));
        break;
      case StanzaScanner::Event::stanza:
        handle(s);
        if (closed_) return;
        break;
    }
  }
}

void ComponentServer::handle(const Stanza& s) {
  ++stanzas_in;
  if (!authenticated_) {
    if (s.name != "handshake") return fail(fmt::format("expected <handshake/>, got {}", s.raw));
    const auto open = s.raw.find('>');
    const auto close = s.raw.rfind("</");
    const std::string_view digest =
        close == std::string_view::npos ? "" : s.raw.substr(open + 1, close - open - 1);
    if (digest != sha1_hex(stream_id_ + secret_)) {
      send(
          "<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
          "</stream:error></stream:stream>");
      return fail("wrong handshake digest");
    }
    send("<handshake/>");
    authenticated_ = true;
    if (on_state) on_state();
    return;
  }
  // salond's keepalive: an XEP-0199 ping to the server's domain.
  if (s.name == "iq" && s.attr("type") == "get" && s.contains("urn:xmpp:ping") &&
      s.attr("to").find('@') == std::string_view::npos && s.attr("to") != domain_) {
    ++pings_answered;
    send(fmt::format("<iq type='result' id='{}' from='{}' to='{}'/>", s.attr("id"), s.attr("to"),
                     s.attr("from")));
    return;
  }
  if (on_stanza) on_stanza(s);
}

void ComponentServer::send(std::string_view xml) {
  if (closed_) return;
  out_.append(xml);
  schedule_flush();
}

void ComponentServer::schedule_flush() {
  if (write_pending_ || flush_posted_) return;
  flush_posted_ = true;
  asio::post(io_, [this] {
    flush_posted_ = false;
    flush();
  });
}

void ComponentServer::flush() {
  if (write_pending_ || out_.empty() || closed_) return;
  std::swap(out_, writing_);
  out_.clear();
  write_pending_ = true;
  asio::async_write(socket_, asio::buffer(writing_),
                    [this](const boost::system::error_code& ec, std::size_t n) {
                      write_pending_ = false;
                      if (ec) return fail("write: " + ec.message());
                      bytes_out += n;
                      writing_.clear();
                      flush();
                    });
}

void ComponentServer::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignore;
  socket_.close(ignore);
  acceptor_.close(ignore);
}

void ComponentServer::fail(std::string why) {
  if (closed_) return;
  if (failure_.empty()) failure_ = why.empty() ? "salond closed the connection" : std::move(why);
  close();
  if (on_state) on_state();
}

}  // namespace salon::bench
