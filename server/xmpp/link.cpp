// SPDX-License-Identifier: GPL-3.0-or-later
#include "xmpp/link.hpp"

#include <gloox/component.h>
#include <gloox/connectionlistener.h>
#include <gloox/tag.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fmt/format.h>

#include <array>

#include "core/backoff.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/stanza.hpp"
#include "xmpp/asio_connection.hpp"
#include "xmpp/stream_errors.hpp"
#include "xmpp/tag_convert.hpp"

namespace salon::xmpp {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

std::string_view to_string(LinkState s) {
  switch (s) {
    case LinkState::stopped: return "stopped";
    case LinkState::connecting: return "connecting";
    case LinkState::ready: return "ready";
    case LinkState::waiting_to_reconnect: return "waiting_to_reconnect";
  }
  return "stopped";
}

namespace {
// gloox's Component, with stanza dispatch taken over: once the handshake is done, every
// iq/message/presence goes straight to salon as an Element. gloox's own handlers (disco, ping,
// the automatic feature-not-implemented without 'from') never see a stanza, so they cannot
// answer for room JIDs.
class Component final : public gloox::Component {
public:
  Component(const LinkSettings& s, std::function<void(const gloox::Tag&)> deliver)
      : gloox::Component("jabber:component:accept", s.host, s.domain, s.secret, s.port),
        deliver_(std::move(deliver)) {
    setTls(gloox::TLSDisabled);
    setCompression(false);
  }
  void handleTag(gloox::Tag* tag) override {
    if (tag && authed()) {
      const std::string& n = tag->name();
      if (n == "message" || n == "presence" || n == "iq") {
        deliver_(*tag);
        return;
      }
    }
    gloox::Component::handleTag(tag);
  }

private:
  std::function<void(const gloox::Tag&)> deliver_;
};
}  // namespace

struct Link::Impl final : gloox::ConnectionListener {
  Impl(asio::io_context& io, LinkSettings s, Metrics& m, LinkEvents& e)
      : io(io),
        settings(std::move(s)),
        events(e),
        backoff(settings.reconnect_initial, settings.reconnect_max),
        reconnect_timer(io),
        keepalive_timer(io),
        stop_timer(io),
        state_gauge(m.gauge("salon_xmpp_link_up", "1 when the XEP-0114 link is authenticated")),
        reconnects(m.counter("salon_xmpp_reconnects_total", "XEP-0114 reconnect attempts")),
        stream_errors(m.counter("salon_xmpp_stream_errors_total", "Stream errors received")),
        keepalive_timeouts(m.counter("salon_xmpp_keepalive_timeouts_total",
                                     "Links declared dead because the server stopped answering")),
        dropped(m.counter("salon_stanzas_dropped_total", "Stanzas not sent",
                          {{"reason", "link_down"}})),
        send_queue_overflows(m.counter(
            "salon_xmpp_send_queue_overflows_total",
            "Links dropped because the server did not read what salond sent fast enough")),
        framer(settings.limits) {
    for (Violation v : {Violation::bytes, Violation::depth, Violation::attributes})
      refused_by[static_cast<std::size_t>(v)] = &m.counter(
          "salon_xmpp_stanzas_refused_total",
          "Stanzas from the server refused before parsing because they were over a limit",
          {{"limit", std::string(to_string(v))}});
    for (const char* kind : {"iq", "message", "presence"}) {
      in[kind] = &m.counter("salon_stanzas_in_total", "Stanzas received from the server",
                            {{"kind", kind}});
      out[kind] =
          &m.counter("salon_stanzas_out_total", "Stanzas sent to the server", {{"kind", kind}});
    }
    if (settings.keepalive_target.empty()) {
      const auto dot = settings.domain.find('.');
      settings.keepalive_target =
          dot == std::string::npos ? settings.domain : settings.domain.substr(dot + 1);
    }
    component = std::make_unique<Component>(settings, [this](const gloox::Tag& t) { deliver(t); });
    auto conn = std::make_unique<AsioConnection>(component.get(), io, settings.host, settings.port);
    connection = conn.get();
    connection->on_bytes_in = [this](std::size_t) { last_in = Clock::now(); };
    connection->filter = [this](std::string_view bytes, std::string& pass) {
      refused.clear();
      framer.feed(bytes, pass, refused);
      for (RefusedStanza& r : refused)
        refuse(std::move(r));
    };
    connection->max_queued_bytes = settings.max_send_queue_bytes;
    connection->on_overflow = [this] {
      send_queue_overflows.inc();
      log::error("link", "more than {} bytes wait to be sent to the server: dropping the link",
                 settings.max_send_queue_bytes);
    };
    component->setConnectionImpl(conn.release());  // gloox owns and deletes it
    component->registerConnectionListener(this);
  }

  void deliver(const gloox::Tag& tag) {
    Element e = to_element(tag);
    // The stream's default namespace is implied; drop explicit copies so handlers see one shape.
    const auto x = e.xmlns();
    if (x == "jabber:component:accept" || x == "jabber:client") e.remove_attr("xmlns");
    if (auto it = in.find(e.name()); it != in.end()) it->second->inc();
    if (e.name() == "iq" && e.attr("id").starts_with("salon-ka-") &&
        (e.attr("type") == "result" || e.attr("type") == "error")) {
      return;  // a keepalive answer: last_in is already updated
    }
    events.on_stanza(std::move(e));
  }

  // A stanza the framer held back: count it, and tell its sender when an answer is owed
  // (never to an error or an IQ result, RFC 6120 §8.3.1).
  void refuse(RefusedStanza r) {
    refused_by[static_cast<std::size_t>(r.why)]->inc();
    if (!r.head) {
      log::warn("link", "refused a stanza over the {} limit (no start tag to answer)",
                to_string(r.why));
      return;
    }
    Element& head = *r.head;
    head.remove_attr("xmlns");
    log::info("link", "refused a <{}> from {} to {}: over the {} limit", head.name(),
              head.attr("from"), head.attr("to"), to_string(r.why));
    const std::string_view type = head.attr("type");
    const std::string& name = head.name();
    const bool stanza = name == "message" || name == "presence" || name == "iq";
    if (!stanza || type == "error" || type == "result" || head.attr("from").empty()) return;
    send_xml(make_error_reply(head, errors::policy_violation(limit_text(r.why))).xml(), name);
  }

  std::string limit_text(Violation v) const {
    const StanzaLimits& l = framer.limits();
    switch (v) {
      case Violation::bytes: return fmt::format("stanza larger than {} bytes", l.max_bytes);
      case Violation::depth:
        return fmt::format("elements nested deeper than {} levels", l.max_depth);
      case Violation::attributes:
        return fmt::format("an element with more than {} attributes", l.max_attributes);
    }
    return "over a limit";
  }

  void connect() {
    framer.reset();  // a new stream
    state = LinkState::connecting;
    log::info("link", "connecting to {}:{} as {}", settings.host, settings.port, settings.domain);
    if (!component->connect(false)) schedule_reconnect("connect could not start");
  }

  void schedule_reconnect(const std::string& reason) {
    if (state == LinkState::stopped) return;
    state = LinkState::waiting_to_reconnect;
    const auto delay = backoff.next();
    log::info("link", "reconnecting in {} ms ({})", delay.count(), reason);
    reconnect_timer.expires_after(delay);
    reconnect_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec || state != LinkState::waiting_to_reconnect) return;
      reconnects.inc();
      connect();
    });
  }

  // gloox::ConnectionListener
  void onConnect() override {
    state = LinkState::ready;
    backoff.reset();
    state_gauge.set(1);
    last_in = Clock::now();
    log::info("link", "authenticated to {}:{} as {}", settings.host, settings.port,
              settings.domain);
    arm_keepalive();
    events.on_ready();
  }

  void onDisconnect(gloox::ConnectionError e) override {
    const bool was_ready = state == LinkState::ready;
    keepalive_timer.cancel();
    state_gauge.set(0);
    std::string reason = describe(e);
    if (e == gloox::ConnStreamError) {
      stream_errors.inc();
      log::error("link", "stream error from server: {}", reason);
      if (component->streamError() == gloox::StreamErrorNotAuthorized) {
        state = LinkState::stopped;
        events.on_fatal(fmt::format(
            "the XMPP server rejected the component secret for {} (stream error not-authorized)",
            settings.domain));
        return;
      }
    } else if (state != LinkState::stopped) {
      log::warn("link", "link to {}:{} lost: {}", settings.host, settings.port, reason);
    }
    if (state == LinkState::stopped) return;
    if (was_ready) events.on_down(reason);
    // gloox must finish unwinding its own disconnect before we connect again.
    asio::post(io, [this, reason] { schedule_reconnect(reason); });
  }

  bool onTLSConnect(const gloox::CertInfo&) override { return false; }

  std::string describe(gloox::ConnectionError e) const {
    if (e == gloox::ConnStreamError) {
      std::string s(stream_error_name(component->streamError()));
      const std::string& text = component->streamErrorText();
      if (!text.empty()) s += ": " + text;
      return s;
    }
    return std::string(connection_error_name(e));
  }

  // Keepalive: ping the server whenever the link has been quiet for an interval; if nothing
  // at all arrives for keepalive_timeout, the peer is dead even though TCP has not noticed.
  void arm_keepalive() {
    keepalive_timer.expires_after(
        std::min(settings.keepalive_interval, settings.keepalive_timeout) / 2);
    keepalive_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec || state != LinkState::ready) return;
      const auto quiet = Clock::now() - last_in;
      if (quiet >= settings.keepalive_timeout) {
        keepalive_timeouts.inc();
        log::error("link", "no data from the server for {} ms: declaring the link dead",
                   std::chrono::duration_cast<std::chrono::milliseconds>(quiet).count());
        component->disconnect();  // -> onDisconnect(ConnUserDisconnected) -> reconnect
        return;
      }
      if (quiet >= settings.keepalive_interval) send_ping();
      arm_keepalive();
    });
  }

  void send_ping() {
    send_xml(
        fmt::format("<iq type='get' id='salon-ka-{}' from='{}' to='{}'><ping "
                    "xmlns='urn:xmpp:ping'/></iq>",
                    ++ping_seq, xml_escape(settings.domain), xml_escape(settings.keepalive_target)),
        "iq");
  }

  void send_xml(std::string xml, std::string_view kind) {
    if (state != LinkState::ready || !connection->send(xml)) {
      dropped.inc();
      return;
    }
    if (auto it = out.find(kind); it != out.end()) it->second->inc();
  }

  asio::io_context& io;
  LinkSettings settings;
  LinkEvents& events;
  Backoff backoff;
  asio::steady_timer reconnect_timer, keepalive_timer, stop_timer;
  std::unique_ptr<Component> component;
  AsioConnection* connection = nullptr;
  LinkState state = LinkState::stopped;
  Clock::time_point last_in = Clock::now();
  std::uint64_t ping_seq = 0;
  Gauge& state_gauge;
  Counter& reconnects;
  Counter& stream_errors;
  Counter& keepalive_timeouts;
  Counter& dropped;
  Counter& send_queue_overflows;
  std::array<Counter*, 3> refused_by{};
  StanzaFramer framer;
  std::vector<RefusedStanza> refused;  // reused per chunk read
  std::map<std::string, Counter*, std::less<>> in, out;
};

Link::Link(asio::io_context& io, LinkSettings settings, Metrics& metrics, LinkEvents& events)
    : impl_(std::make_unique<Impl>(io, std::move(settings), metrics, events)) {}

Link::~Link() {
  if (impl_) {
    impl_->state = LinkState::stopped;
    impl_->component->removeConnectionListener(impl_.get());
  }
}

void Link::start() {
  impl_->connect();
}

void Link::stop() {
  if (impl_->state == LinkState::stopped) return;
  const bool was_ready = impl_->state == LinkState::ready;
  impl_->state = LinkState::stopped;
  impl_->reconnect_timer.cancel();
  impl_->keepalive_timer.cancel();
  impl_->state_gauge.set(0);
  if (was_ready) impl_->connection->send("</stream:stream>");
  // Give the closing tag a moment to leave before the socket closes.
  impl_->stop_timer.expires_after(std::chrono::milliseconds(was_ready ? 100 : 0));
  impl_->stop_timer.async_wait(
      [impl = impl_.get()](const boost::system::error_code&) { impl->component->disconnect(); });
}

void Link::send(Element stanza) {
  if (!impl_->io.get_executor().running_in_this_thread()) {
    asio::post(impl_->io, [this, s = std::move(stanza)]() mutable { send(std::move(s)); });
    return;
  }
  const std::string kind = stanza.name();
  impl_->send_xml(stanza.xml(), kind);
}

void Link::send_raw(std::string xml, std::string_view kind) {
  if (!impl_->io.get_executor().running_in_this_thread()) {
    asio::post(impl_->io, [this, x = std::move(xml), k = std::string(kind)]() mutable {
      send_raw(std::move(x), k);
    });
    return;
  }
  impl_->send_xml(std::move(xml), kind);
}

void Link::set_limits(const StanzaLimits& limits) {
  impl_->framer.set_limits(limits);
}

LinkState Link::state() const {
  return impl_->state;
}

}  // namespace salon::xmpp
