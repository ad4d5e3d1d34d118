// SPDX-License-Identifier: GPL-3.0-or-later
// A TCP forwarder in front of PostgreSQL, so a test can make the server "go away" (stop: the
// listener closes and every connection is cut) and "come back" (start, on the same port)
// without touching the shared server.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace salon::db::test {

class PgProxy {
public:
  // `target` is a libpq conninfo whose host/port say where PostgreSQL listens (Unix socket
  // directory or TCP host).
  explicit PgProxy(const std::string& target);
  ~PgProxy();
  PgProxy(const PgProxy&) = delete;
  PgProxy& operator=(const PgProxy&) = delete;

  void start();  // listens on 127.0.0.1:port() (a free port the first time, then the same)
  void stop();   // closes the listener and every forwarded connection
  [[nodiscard]] std::uint16_t port() const;
  // `conninfo` redirected to this proxy.
  [[nodiscard]] std::string through(const std::string& conninfo) const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A loopback TCP port nothing listens on (bound, then released).
std::uint16_t unused_port();

}  // namespace salon::db::test
