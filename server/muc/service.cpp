// SPDX-License-Identifier: GPL-3.0-or-later
// Service: the public face (forwarding to Impl) and the first dispatch of every stanza from
// the link: addressing is validated here, then the stanza goes to the service itself, to a
// forwarded-IQ reply, or to a room.
#include "muc/service.hpp"

#include <boost/asio/post.hpp>

#include "core/jid_cache.hpp"
#include "core/log.hpp"
#include "journal/journal.hpp"
#include "muc/impl.hpp"

namespace salon::muc {

namespace {
std::string normalised_domain(const std::string& d) {
  auto j = Jid::parse(d);
  return j ? j->domain() : d;
}
}  // namespace

void add_code(std::vector<int>& codes, int code) {
  auto it = std::lower_bound(codes.begin(), codes.end(), code);
  if (it == codes.end() || *it != code) codes.insert(it, code);
}

Service::Impl::Impl(ServiceDeps d)
    : io(d.io),
      sink_(std::move(d.sink)),
      metrics_(d.metrics),
      store(d.store),
      database_(d.database),
      journal_(d.journal),
      readiness_(d.readiness),
      http_(d.http),
      cfg(d.config),
      domain(normalised_domain(d.config.component.domain)),
      occupant_id_key("salon occupant-id\n" + d.config.component.secret),
      iq_forward_timeout(d.iq_forward_timeout),
      joins_total(metrics_.counter("salon_muc_joins_total", "Occupants that joined a room")),
      messages_total(
          metrics_.counter("salon_muc_messages_total", "Groupchat messages broadcast to rooms")),
      join_duration(metrics_.histogram("salon_muc_join_duration_seconds",
                                       "From join presence to the subject being sent")),
      broadcast_duration(metrics_.histogram(
          "salon_muc_broadcast_duration_seconds",
          "From groupchat message receipt to its broadcast (includes plugin holds)")),
      rooms_loaded_gauge(metrics_.gauge("salon_muc_rooms_loaded", "Rooms loaded in memory")),
      occupants_gauge(metrics_.gauge("salon_muc_occupants", "Occupants in loaded rooms")),
      forwards_expired(metrics_.counter(
          "salon_muc_forwarded_iqs_expired_total",
          "IQs forwarded to an occupant that got no answer in time (the requester got an error)")),
      missing_room_hits(
          metrics_.counter("salon_muc_missing_room_cache_hits_total",
                           "Stanzas to unknown rooms answered without a database query")) {
  // Registered up front so that each shows (at 0) before it first bites.
  for (const char* limit :
       {"message_bytes", "body_chars", "message_rate", "presence_bytes", "presence_rate",
        "forwarded_iqs_occupant", "forwarded_iqs_room", "loading_queue"})
    refused_counters[limit] =
        &metrics_.counter("salon_muc_stanzas_refused_total",
                          "Stanzas the MUC refused for a [muc] limit", {{"limit", limit}});
  set_jid_cache_budget(cfg.muc.jid_cache_bytes);
  if (auto j = Jid::parse(domain)) service_jid = *j;
  iq_counters.errors_sent =
      &metrics_.counter("salon_iq_errors_sent_total", "IQ error replies sent");
  iq_counters.unanswered = &metrics_.counter("salon_iq_unanswered_total",
                                             "IQs whose handler did not answer (guard replied)");
  iq_counters.double_answers =
      &metrics_.counter("salon_iq_double_answers_total", "Second answers to an IQ (ignored)");
  route_core_iqs();
}

Service::Impl::~Impl() {
  // Timers are cancelled by their destructors; their handlers check `alive`.
  alive.reset();
  for (auto& [id, f] : forwards)
    f.reply->error(errors::service_unavailable("the service is shutting down"));
}

IqResponder Service::Impl::responder(const Element& iq) {
  return IqResponder(sink_, iq, iq_counters);
}

void Service::Impl::send_error(const Element& stanza, const StanzaError& err) {
  if (stanza.attr("type") == "error") return;  // RFC 6120 §8.3.1: never answer an error
  Element reply = make_error_reply(stanza, err);
  // The reply's 'from' is the address the sender used, unless that address was unusable:
  // then the room (a bad nick) or the service.
  const std::string_view to = stanza.attr("to");
  if (!Jid::parse(to)) {
    const auto room = Jid::parse(to.substr(0, to.find('/')));
    reply.set_attr("from", room && room->domain() == domain ? room->bare_str() : domain);
  }
  send(std::move(reply));
}

void Service::Impl::refused(std::string_view limit) {
  if (auto it = refused_counters.find(limit); it != refused_counters.end()) it->second->inc();
}

void Service::Impl::occupants_changed(long delta) {
  occupant_total = static_cast<std::size_t>(static_cast<long>(occupant_total) + delta);
  occupants_gauge.set(static_cast<double>(occupant_total));
}

void Service::Impl::handle(Element stanza) {
  if (restoring) {
    // Occupants are being restored: keep order, replay once the rooms are back.
    restore_queue.push_back(std::move(stanza));
    return;
  }
  const std::string& kind = stanza.name();
  if (kind != "iq" && kind != "message" && kind != "presence") return;
  const std::string_view type = stanza.attr("type");
  const auto from = Jid::parse(stanza.attr("from"));
  if (!from) {
    log::debug("muc", "dropping {} without a usable from ('{}')", kind, stanza.attr("from"));
    return;
  }
  if (from->domain() == domain) return;  // never process our own stanzas coming back
  if (kind == "iq" && type != "get" && type != "set" && type != "result" && type != "error") {
    send_error(stanza, errors::bad_request("invalid IQ type"));
    return;
  }
  const auto to = Jid::parse(stanza.attr("to"));
  if (!to) {
    if (type != "result") send_error(stanza, errors::jid_malformed());
    return;
  }
  if (to->domain() != domain) {
    if (type != "result" && type != "unavailable") send_error(stanza, errors::item_not_found());
    return;
  }
  if (to->local().empty()) {
    handle_service_stanza(stanza, *from);
    return;
  }
  if (kind == "iq" && (type == "result" || type == "error")) {
    // Replies to IQs we forwarded to an occupant's resource; nothing else is expected.
    if (!to->is_bare()) forwarded_reply(stanza, *from);
    return;
  }
  route_to_room(to->local(), std::move(stanza), *from, *to);
}

void Service::Impl::handle_service_stanza(const Element& stanza, const Jid& from) {
  const std::string_view type = stanza.attr("type");
  if (stanza.name() == "iq") {
    if (type == "get" || type == "set") handle_service_iq(stanza, from);
    return;  // results/errors: the service sends no IQs of its own through here
  }
  if (stanza.name() == "message") {
    send_error(stanza, errors::service_unavailable());
    return;
  }
  // Presence to the service (probes, directed presence): nothing to say.
}

void Service::Impl::handle_service_iq(const Element& iq, const Jid& from) {
  MucIq ctx{nullptr, from, {}};
  iq_router.dispatch(iq, IqTarget::service, ctx, responder(iq));
}

// ---- Service

Service::Service(ServiceDeps deps) : impl_(std::make_unique<Impl>(std::move(deps))) {}
Service::~Service() = default;

void Service::add_plugin(std::unique_ptr<plugin::Plugin> p) {
  impl_->plugins.push_back(std::move(p));
  impl_->order_hooks();
}

std::optional<std::string> Service::start() {
  Impl& s = *impl_;
  if (auto err = s.order_start()) return err;
  s.order_hooks();
  for (plugin::Plugin* p : s.start_order) {
    const auto it = s.cfg.plugins.find(std::string(p->name()));
    const config::PluginSection section =
        it == s.cfg.plugins.end() ? config::PluginSection{} : it->second;
    try {
      if (auto err = p->start(s, section)) return "plugin " + std::string(p->name()) + ": " + *err;
    } catch (const std::exception& e) {
      return "plugin " + std::string(p->name()) + ": " + e.what();
    }
  }
  if (s.journal_) s.journal_->start();  // every table is registered: replay a left-over spool
  s.started = true;
  s.restoring = true;
  std::weak_ptr<int> alive = s.alive;
  s.store.load_occupied_rooms([&s, alive](std::vector<RestoredRoom> rooms, StoreError err) {
    if (alive.expired()) return;
    if (err) log::error("muc", "restoring occupants failed: {}", err.message);
    s.restore(std::move(rooms));
  });
  return std::nullopt;
}

void Service::stop(std::function<void()> done) {
  Impl& s = *impl_;
  s.stopping = true;
  s.flush_all([&s, done = std::move(done)] {
    for (auto it = s.start_order.rbegin(); it != s.start_order.rend(); ++it) {
      try {
        (*it)->stop();
      } catch (const std::exception& e) {
        log::error("muc", "plugin {} failed to stop: {}", (*it)->name(), e.what());
      }
    }
    if (done) done();
  });
}

void Service::reload(const config::Config& config) {
  Impl& s = *impl_;
  s.cfg.muc = config.muc;
  set_jid_cache_budget(s.cfg.muc.jid_cache_bytes);
  // A changed idle_unload applies to rooms already waiting, too.
  if (!s.idle_queue.empty()) s.arm_idle_sweep(s.idle_queue.front().since + s.cfg.muc.idle_unload);
  s.cfg.log = config.log;
  for (auto& p : s.plugins) {
    const auto it = config.plugins.find(std::string(p->name()));
    if (it == config.plugins.end()) continue;
    try {
      if (auto err = p->reload(it->second)) {
        log::error("muc", "plugin {} kept its settings: {}", p->name(), *err);
        continue;
      }
      s.cfg.plugins[it->first] = it->second;
    } catch (const std::exception& e) {
      log::error("muc", "plugin {} failed to reload: {}", p->name(), e.what());
    }
  }
}

void Service::handle(Element stanza) {
  try {
    impl_->handle(std::move(stanza));
  } catch (const std::exception& e) {
    // One bad stanza must not take the service down.
    log::error("muc", "stanza handling failed: {}", e.what());
  }
}

void Service::on_link_ready() {
  log::info("muc", "link ready: serving {}", impl_->domain);
}
void Service::on_link_down() {
  log::warn("muc", "link down: stanzas to occupants are lost");
}

plugin::Host& Service::host() {
  return *impl_;
}
void Service::set_http_guard(http::Guard guard) {
  impl_->http_guard = std::move(guard);
}
std::size_t Service::loaded_rooms() const {
  return impl_->rooms.size();
}
std::size_t Service::occupants() const {
  return impl_->occupant_total;
}

}  // namespace salon::muc
