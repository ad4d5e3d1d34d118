// SPDX-License-Identifier: GPL-3.0-or-later
// The XEP-0045 service for the component domain: every stanza from the link enters here.
// It owns the loaded rooms (all on the event loop), implements plugin::Host, and dispatches
// plugin events. It does not know which plugins exist.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/element.hpp"
#include "core/iq.hpp"
#include "http/http.hpp"
#include "muc/store.hpp"
#include "plugin/plugin.hpp"

namespace boost::asio {
class io_context;
}

namespace salon {
class Metrics;
class Readiness;
namespace config {
struct Config;
}
namespace db {
class Database;
}
namespace http {
class Server;
}
namespace journal {
class Journal;
}
}  // namespace salon

namespace salon::muc {

struct ServiceDeps {
  boost::asio::io_context& io;
  std::shared_ptr<StanzaSink> sink;  // the XMPP link
  Metrics& metrics;
  RoomStore& store;
  db::Database* database = nullptr;  // for plugins (nullptr in unit tests)
  http::Server* http = nullptr;      // for plugin routes (nullptr in unit tests)
  const config::Config& config;
  // An IQ forwarded to an occupant's resource is answered with an error after this long
  // (XEP-0045 §7.8: never left unanswered). Tests shorten it.
  std::chrono::milliseconds iq_forward_timeout{30000};
  // Where messages' commits go (nullptr in unit tests that have no database; a plugin that
  // adds a table then fails to start).
  journal::Journal* journal = nullptr;
  // /readyz's registry for the plugins' checks (nullptr in unit tests: checks are dropped).
  Readiness* readiness = nullptr;
};

class Service {
public:
  explicit Service(ServiceDeps deps);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Plugins are added before start(); start() starts them with their config sections.
  void add_plugin(std::unique_ptr<plugin::Plugin> p);
  // Starts plugins (error text on failure) and restores persisted occupants.
  std::optional<std::string> start();
  // Flushes write-behind occupant state, stops plugins; `done` runs on the loop when finished.
  void stop(std::function<void()> done);
  void reload(const config::Config& config);

  // From the link.
  void handle(Element stanza);
  void on_link_ready();
  void on_link_down();

  // From the provisioning API, after the store committed a change: apply it live.
  void project_changed(const RoomRecord& room);
  void project_deleted(const std::string& local);

  plugin::Host& host();
  // The guard run before the body of every plugin route is read: the provisioning API's
  // bearer guard (app/api_wiring.cpp), so both check one token in one place and the service
  // never reads it. Until one is set, plugin routes answer 503.
  void set_http_guard(http::Guard guard);
  [[nodiscard]] std::size_t loaded_rooms() const;
  [[nodiscard]] std::size_t occupants() const;

  struct Impl;

private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace salon::muc
