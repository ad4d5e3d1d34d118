// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/daemon.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <csignal>
#include <optional>

#include "app/api_routes.hpp"
#include "app/health.hpp"
#include "app/notify.hpp"
#include "app/plugins.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/readiness.hpp"
#include "db/database.hpp"
#include "http/http.hpp"
#include "journal/journal.hpp"
#include "muc/service.hpp"
#include "store/store_pg.hpp"
#include "xmpp/link.hpp"

namespace salon::app {

namespace asio = boost::asio;

namespace {
xmpp::StanzaLimits stanza_limits(const config::Component& c) {
  return {c.max_stanza_bytes, c.max_stanza_depth, c.max_stanza_attributes};
}

xmpp::LinkSettings link_settings(const config::Config& c) {
  xmpp::LinkSettings s;
  s.domain = c.component.domain;
  s.host = c.component.server_host;
  s.port = c.component.server_port;
  s.secret = c.component.secret;
  s.keepalive_interval = c.component.keepalive_interval;
  s.keepalive_timeout = c.component.keepalive_timeout;
  s.reconnect_initial = c.component.reconnect_initial;
  s.reconnect_max = c.component.reconnect_max;
  s.limits = stanza_limits(c.component);
  s.max_send_queue_bytes = c.component.max_send_queue_bytes;
  return s;
}

db::Options db_options(const config::Config& c) {
  db::Options o;
  o.conninfo = c.database.conninfo;
  o.health_interval = c.database.health_interval;
  o.statement_timeout = c.database.statement_timeout;
  o.max_queued_queries = c.database.max_queued_queries;
  o.schema_dir = db::default_schema_dir();
  return o;
}

// The link's sink must outlive every IqResponder that still points at it (they can sit in
// queued database completions), so the service gets it through a shared_ptr that forwards to
// the link while the link exists and counts drops after.
class LinkSink final : public StanzaSink {
public:
  explicit LinkSink(Counter& dropped) : dropped_(dropped) {}
  void attach(xmpp::Link* link) { link_ = link; }
  void send(Element stanza) override {
    if (link_)
      link_->send(std::move(stanza));
    else
      dropped_.inc();
  }
  void send_serialised(std::string xml, std::string_view kind) override {
    if (link_)
      link_->send_raw(std::move(xml), kind);
    else
      dropped_.inc();
  }

private:
  xmpp::Link* link_ = nullptr;
  Counter& dropped_;
};
}  // namespace

struct Daemon::Impl final : xmpp::LinkEvents {
  explicit Impl(config::Config c)
      : config(std::move(c)),
        signals(io, SIGTERM, SIGINT),
        hup(io, SIGHUP),
        shutdown_deadline(io),
        sink(std::make_shared<LinkSink>(metrics.counter(
            "salon_stanzas_dropped_total", "Stanzas not sent", {{"reason", "shutdown"}}))) {}

  // Queued completions may still hold the sink after the link is gone.
  ~Impl() override { sink->attach(nullptr); }

  int run() {
    metrics.gauge("salon_build_info", "salond build", {{"version", SALON_VERSION}}).set(1);
    try {
      database = std::make_unique<db::Database>(io, metrics, db_options(config));
    } catch (const std::exception& e) {
      log::error("db", "invalid database.conninfo: {}", e.what());
      return exit_config;
    }
    http_server = std::make_unique<http::Server>(io, metrics);
    if (auto err = http_server->listen(config.http.listen_address, config.http.listen_port)) {
      log::error("http", "cannot listen on {}:{}: {}", config.http.listen_address,
                 config.http.listen_port, *err);
      return exit_config;
    }
    try {
      journal =
          std::make_unique<journal::Journal>(io, *database, metrics, config.database.spool_dir);
    } catch (const std::exception& e) {
      log::error("journal", "key 'database.spool_dir': {}", e.what());
      return exit_config;
    }
    store = std::make_unique<store::PgRoomStore>(*database);
    muc::ServiceDeps deps{io, sink, metrics, *store, database.get(), http_server.get(), config};
    deps.journal = journal.get();
    deps.readiness = &readiness;
    service = std::make_unique<muc::Service>(std::move(deps));
    link = std::make_unique<xmpp::Link>(io, link_settings(config), metrics, *this);
    sink->attach(link.get());
    health = std::make_unique<Health>(io, metrics, *http_server, *link, *database, readiness);
    register_api_routes();
    if (auto err = add_enabled_plugins(*service, config)) {
      log::error("plugin", "{}", *err);
      return exit_config;
    }
    database->on_migrations([this](const db::MigrationResult& r) { on_migrations(r); });
    watch_signals();
    log::info("salond", "salond {} starting for {}; HTTP on {}:{}", SALON_VERSION,
              config.component.domain, config.http.listen_address, http_server->port());
    io.run();
    database->stop();  // flushes queued writes (occupant state) before exit
    return exit_code;
  }

  void register_api_routes() {
    api = std::make_unique<ApiRoutes>(*store, *service, *http_server, config);
  }

  void on_migrations(const db::MigrationResult& r) {
    if (r.fatal()) {
      log::error("db", "schema migration failed: {}", r.error);
      fatal(exit_migration);
      return;
    }
    if (!r.ok()) return;  // PostgreSQL unavailable: the database retries and calls again
    if (auto err = service->start()) {
      log::error("salond", "cannot start the MUC service: {}", *err);
      fatal(exit_config);
      return;
    }
    // The link comes up only once rooms can be served: before that, the server bounces what
    // users send (an error they see) instead of salond half-serving them.
    link->start();
  }

  // xmpp::LinkEvents
  void on_stanza(Element stanza) override { service->handle(std::move(stanza)); }
  void on_ready() override {
    service->on_link_ready();
    notify_ready();
  }
  void on_down(const std::string&) override { service->on_link_down(); }
  void on_fatal(const std::string& reason) override {
    log::error("link", "fatal: {}", reason);
    fatal(exit_link_fatal);
  }

  void fatal(int code) {
    exit_code = code;
    stop();
  }

  void watch_signals() {
    signals.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      log::info("salond", "signal {} received: shutting down", sig);
      stop();
    });
    wait_hup();
  }

  void wait_hup() {
    hup.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      reload();
      wait_hup();
    });
  }

  void reload();

  // Clean shutdown: flush occupant state (no unavailable presences: clients stay in their
  // rooms across a restart), close the stream, stop HTTP, then leave the loop.
  void stop() {
    if (stopping) return;
    stopping = true;
    notify_stopping();
    signals.cancel();
    hup.cancel();
    shutdown_deadline.expires_after(std::chrono::seconds(10));
    shutdown_deadline.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      log::error("salond", "shutdown took longer than 10 s: forcing it");
      io.stop();
    });
    service->stop([this] {
      link->stop();
      http_server->stop();
      health->stop();
      auto t = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(150));
      t->async_wait([this, t](const boost::system::error_code&) {
        shutdown_deadline.cancel();
        io.stop();
      });
    });
  }

  config::Config config;
  Metrics metrics;      // outlives io: handlers destroyed with io may still count
  Readiness readiness;  // /readyz's checks: the core's (health.cpp) and the plugins'
  asio::io_context io{1};
  asio::signal_set signals, hup;
  asio::steady_timer shutdown_deadline;
  std::shared_ptr<LinkSink> sink;
  std::unique_ptr<db::Database> database;
  std::unique_ptr<journal::Journal> journal;  // after the database, before the service
  std::unique_ptr<http::Server> http_server;
  std::unique_ptr<store::PgRoomStore> store;
  std::unique_ptr<muc::Service> service;
  std::unique_ptr<xmpp::Link> link;
  std::unique_ptr<Health> health;
  std::unique_ptr<ApiRoutes> api;
  bool stopping = false;
  int exit_code = exit_ok;
};

void Daemon::Impl::reload() {
  auto loaded = config::load_file(config.path);
  if (!loaded.config) {
    log::error("config", "reload failed, keeping the running configuration: {}",
               loaded.error->str());
    return;
  }
  config::Config next = std::move(*loaded.config);
  for (const auto& key : config::restart_required(config, next))
    log::warn("config", "{} changed: this needs a restart; the running value is kept", key);
  // Keep what needs a restart; take everything else. Of the component's keys only the stanza
  // limits are live (the link itself is not rebuilt).
  const config::Component loaded_component = next.component;
  next.component = config.component;
  next.component.max_stanza_bytes = loaded_component.max_stanza_bytes;
  next.component.max_stanza_depth = loaded_component.max_stanza_depth;
  next.component.max_stanza_attributes = loaded_component.max_stanza_attributes;
  if (link) link->set_limits(stanza_limits(next.component));
  next.database.conninfo = config.database.conninfo;
  next.http.listen_address = config.http.listen_address;
  next.http.listen_port = config.http.listen_port;
  if (auto level = log::parse_level(next.log.level)) log::set_level(*level);
  log::set_json(next.log.format == config::LogFormat::json);
  config = std::move(next);
  service->reload(config);
  api->reload(config);
  log::info("config", "reloaded {}", config.path);
}

Daemon::Daemon(config::Config config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Daemon::~Daemon() = default;
int Daemon::run() {
  return impl_->run();
}

}  // namespace salon::app
