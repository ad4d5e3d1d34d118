// SPDX-License-Identifier: GPL-3.0-or-later
// salond's wiring: one io_context thread owns the link, the rooms and the HTTP server; the
// database has its own worker threads. The Daemon builds them in dependency order, connects
// their events, handles signals and decides the exit code.
#pragma once

#include <memory>
#include <string>

#include "config/config.hpp"

namespace salon::app {

enum ExitCode : int {
  exit_ok = 0,
  exit_config = 1,      // bad config or command line, HTTP listen failed
  exit_link_fatal = 2,  // the XMPP server rejected us (e.g. wrong component secret)
  exit_migration = 3,   // a schema migration failed
};

class Daemon {
public:
  explicit Daemon(config::Config config);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;
  // Runs until SIGTERM/SIGINT or a fatal error; returns the process exit code.
  int run();

  struct Impl;

private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace salon::app
