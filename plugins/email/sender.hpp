// SPDX-License-Identifier: GPL-3.0-or-later
// The sender thread: claims due digests (claim.hpp), sends each through SMTP (smtp.hpp) and
// records the outcome, on a PostgreSQL connection of its own. Never on the event loop: an SMTP
// server that hangs for a minute holds this thread, not the chat.
//
// Exactly once, as far as SMTP allows (docs/EMAIL.md):
//   claimed → (every byte but the end of DATA sent) → UPDATE state='sending' → end of DATA
//   → 250 → UPDATE state='sent'
// A crash before 'sending' is recorded leaves the digest 'claimed': the next start sends it,
// and nothing was delivered before. A crash after it leaves 'sending': the server may have
// taken the message, so the next start marks it 'in_doubt' (counted, logged, never resent)
// instead of risking a second email. The window is the server's reply to the end of DATA plus
// our UPDATE: milliseconds.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "claim.hpp"
#include "render.hpp"
#include "settings.hpp"
#include "smtp.hpp"

namespace salon {
class Counter;
class Gauge;
class Histogram;
class Metrics;
namespace db {
class Database;
class OwnConnection;
}  // namespace db
}  // namespace salon

namespace salon::email {

class Sender {
public:
  struct Deps {
    db::Database& database;
    Metrics& metrics;
    std::string domain;
    // A sender thread: rows that are gone; the plugin hands them to the loop.
    std::function<void(std::vector<Handled>)> handled;
  };
  Sender(Deps deps, Settings settings, std::shared_ptr<const Templates> templates);
  ~Sender();  // stop()
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  void start();
  void stop();  // joins the threads (an SMTP transfer in progress ends by its timeouts)
  void wake();  // look for due digests now
  // New settings and templates for the next cycle; the number of senders needs a restart.
  void update(Settings settings, std::shared_ptr<const Templates> templates);

  struct SmtpState {
    bool up = true;      // the last attempt reached a server that answered
    bool tried = false;  // any attempt since start
    std::string detail;  // the last failure
  };
  [[nodiscard]] SmtpState smtp_state() const;

  // One sender thread: its own PostgreSQL connection and SMTP connection, and its share of
  // the members (hash of the JID modulo the number of senders), so that two threads never
  // claim or send the same member's digests.
  struct Worker;

private:
  void run(Worker& w);
  void cycle(Worker& w);
  void recover(Worker& w);
  std::size_t send_ready(Worker& w);
  bool send(Worker& w, std::int64_t id);  // false: not attempted (sending is paused)
  bool precheck(Worker& w, std::int64_t id, std::string& address, std::string& raw);
  void record(Worker& w, std::int64_t id, const SmtpOutcome& o);
  void finish(pqxx::dbtransaction& tx, std::int64_t id, std::vector<Handled>& handled);
  void gauges(Worker& w);
  void set_smtp(const SmtpOutcome& o);
  [[nodiscard]] bool stopping() const;

  Deps deps_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::uint64_t wakes_ = 0;                               // guarded by mu_
  Settings settings_;                                     // guarded by mu_
  std::shared_ptr<const Templates> templates_;            // guarded by mu_
  SmtpState smtp_;                                        // guarded by mu_
  std::uint64_t settings_generation_ = 0;                 // guarded by mu_
  std::chrono::steady_clock::time_point paused_until_{};  // guarded by mu_
  std::vector<std::unique_ptr<Worker>> workers_;
  bool recovered_ = false;  // sender 0 only

  Counter& sent_;
  Counter& failed_temporary_;
  Counter& failed_permanent_;
  Counter& in_doubt_;
  Counter& errors_;
  Gauge& depth_;
  Gauge& oldest_;
  Gauge& smtp_up_;
  Histogram& send_seconds_;
  Metrics& metrics_;
};

}  // namespace salon::email
