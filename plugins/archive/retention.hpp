// SPDX-License-Identifier: GPL-3.0-or-later
// Retention: messages older than a room's retention are deleted by a periodic purge job, in
// small batches (short transactions on a reader connection, so the writer thread — and with
// it every held message — never waits behind a purge). The period is global
// ([plugins.archive] retention_days, 0 = forever) and per room through the API:
//   PUT    /api/v1/projects/{id}/retention   {"days": 30} | {"days": null} (= forever)
//   GET    /api/v1/projects/{id}/retention   {"days": .., "inherited": bool}
//   DELETE /api/v1/projects/{id}/retention   back to the global setting
#pragma once

#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>
#include <string_view>

#include "plugin/plugin.hpp"
#include "retention_body.hpp"

namespace salon {
class Counter;
}

namespace salon::archive {

class Retention {
public:
  Retention(plugin::Host& host, std::size_t global_days, std::chrono::seconds interval);
  ~Retention();
  void set(std::size_t global_days, std::chrono::seconds interval);  // reload

private:
  void schedule(std::chrono::seconds after);
  void purge();

  plugin::Host& host_;
  boost::asio::steady_timer timer_;
  std::shared_ptr<std::size_t> global_days_;  // shared with the HTTP routes
  std::chrono::seconds interval_;
  Counter& purged_;
  bool running_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace salon::archive
