// SPDX-License-Identifier: GPL-3.0-or-later
// The XEP-0114 link to the XMPP server. gloox does the stream, the handshake and the parsing;
// Boost.Asio owns the socket (see asio_connection.hpp). This header is gloox-free.
//
// Reliability: the link pings the server (XEP-0199) when it has been idle for
// keepalive_interval and declares the peer dead when nothing at all has been received for
// keepalive_timeout. On any loss it reconnects forever with capped exponential backoff and
// jitter. A rejected secret (stream error not-authorized) is fatal: retrying cannot fix it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/element.hpp"
#include "core/iq.hpp"
#include "xmpp/framer.hpp"

namespace boost::asio {
class io_context;
}

namespace salon {
class Metrics;
}

namespace salon::xmpp {

struct LinkSettings {
  std::string domain;  // the component domain, e.g. rooms.example.com
  std::string host = "127.0.0.1";
  std::uint16_t port = 5347;
  std::string secret;
  std::string keepalive_target;  // JID pinged; default: the domain minus its first label
  std::chrono::milliseconds keepalive_interval{10000};
  std::chrono::milliseconds keepalive_timeout{20000};
  std::chrono::milliseconds reconnect_initial{50};
  std::chrono::milliseconds reconnect_max{500};
  StanzaLimits limits;                                               // checked before parsing
  std::size_t max_send_queue_bytes = std::size_t{64} * 1024 * 1024;  // 0: unbounded
};

enum class LinkState { stopped, connecting, ready, waiting_to_reconnect };
std::string_view to_string(LinkState s);

class LinkEvents {
public:
  virtual ~LinkEvents() = default;
  // An iq/message/presence from the server, converted to our Element (top-level namespace
  // attribute removed). Called on the loop.
  virtual void on_stanza(Element stanza) = 0;
  virtual void on_ready() = 0;                           // handshake accepted
  virtual void on_down(const std::string& reason) = 0;   // lost; a reconnect is scheduled
  virtual void on_fatal(const std::string& reason) = 0;  // will not reconnect
};

class Link final : public StanzaSink {
public:
  Link(boost::asio::io_context& io, LinkSettings settings, Metrics& metrics, LinkEvents& events);
  ~Link() override;
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  void start();
  // Closes the stream (</stream:stream>) and stops reconnecting.
  void stop();
  // Thread-safe. Stanzas sent while the link is not ready are dropped and counted
  // (salon_stanzas_dropped_total{reason="link_down"}): the server bounces what users send
  // meanwhile, so nothing is lost silently.
  void send(Element stanza) override;
  // Sends already-serialised XML (the fan-out path serialises once per recipient).
  void send_raw(std::string xml, std::string_view kind);
  void send_serialised(std::string xml, std::string_view kind) override {
    send_raw(std::move(xml), kind);
  }
  // New stanza limits, from the next stanza on (config reload).
  void set_limits(const StanzaLimits& limits);
  [[nodiscard]] LinkState state() const;
  [[nodiscard]] bool ready() const { return state() == LinkState::ready; }

  struct Impl;

private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace salon::xmpp
