// SPDX-License-Identifier: GPL-3.0-or-later
#include "sender.hpp"

#include <fmt/format.h>

#include <pqxx/pqxx>

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/stamp.hpp"
#include "db/database.hpp"
#include "schedule.hpp"

namespace salon::email {
namespace {

constexpr const char* kReady =
    "SELECT id FROM email_outbox WHERE state = 'claimed' "
    "OR (state = 'retry' AND next_attempt_at <= now()) ORDER BY id LIMIT 50";

// What the outbox row's rooms were, up to which message: the loop's re-arm needs them.
constexpr const char* kFinishRows =
    "WITH gone AS (DELETE FROM email_pending WHERE claimed_by = $1 RETURNING room_id, jid) "
    "SELECT g.room_id, g.jid, (extract(epoch FROM o.through) * 1000000)::bigint "
    "FROM gone g LEFT JOIN email_outbox_rooms o ON o.outbox_id = $1 AND o.room_id = g.room_id";

std::vector<double> send_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

}  // namespace

Sender::Sender(Deps deps, Settings settings, std::shared_ptr<const Templates> templates)
    : deps_(std::move(deps)),
      settings_(std::move(settings)),
      templates_(std::move(templates)),
      sent_(deps_.metrics.counter("salon_email_sent_total",
                                  "Digest emails the SMTP server accepted")),
      failed_temporary_(deps_.metrics.counter("salon_email_failed_total",
                                              "Digest sends that failed, by kind",
                                              {{"kind", "temporary"}})),
      failed_permanent_(deps_.metrics.counter("salon_email_failed_total",
                                              "Digest sends that failed, by kind",
                                              {{"kind", "permanent"}})),
      in_doubt_(deps_.metrics.counter(
          "salon_email_in_doubt_total",
          "Digests whose delivery is unknown (salond stopped between the end of DATA and the "
          "reply, or no reply came): never sent again")),
      errors_(deps_.metrics.counter("salon_email_sender_errors_total",
                                    "Sender cycles that failed (PostgreSQL or rendering)")),
      depth_(deps_.metrics.gauge("salon_email_outbox_depth",
                                 "Notifications pending plus digests not yet delivered")),
      oldest_(deps_.metrics.gauge(
          "salon_email_oldest_pending_seconds",
          "How long the most overdue notification or unsent digest has waited past its due time")),
      smtp_up_(deps_.metrics.gauge("salon_email_smtp_up",
                                   "1 when the last SMTP attempt got an answer from the server")),
      send_seconds_(deps_.metrics.histogram(
          "salon_email_send_seconds", "One SMTP transaction, connect to reply", send_buckets())),
      metrics_(deps_.metrics) {
  smtp_up_.set(1);
}

Sender::~Sender() {
  stop();
}

void Sender::start() {
  thread_ = std::thread([this] { run(); });
}

void Sender::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Sender::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void Sender::update(Settings settings, std::shared_ptr<const Templates> templates) {
  std::lock_guard lock(mu_);
  settings_ = std::move(settings);
  templates_ = std::move(templates);
  new_client_ = true;  // the next send uses the new SMTP settings
}

Sender::SmtpState Sender::smtp_state() const {
  std::lock_guard lock(mu_);
  return smtp_;
}

pqxx::connection_base* Sender::connection() {
  if (!conn_) conn_ = deps_.database.own_connection("email");
  return conn_->get();
}

void Sender::run() {
  while (true) {
    std::chrono::milliseconds interval;
    {
      std::unique_lock lock(mu_);
      if (stop_) break;
      interval = settings_.poll_interval;
    }
    try {
      cycle();
    } catch (const pqxx::broken_connection& e) {
      log::warn("email", "sender: PostgreSQL connection lost: {}", e.what());
      if (conn_) conn_->drop();
      errors_.inc();
    } catch (const std::exception& e) {
      log::error("email", "sender: {}", e.what());
      errors_.inc();
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, interval, [this] { return stop_ || woken_; });
    woken_ = false;
  }
  conn_.reset();
  client_.reset();
}

void Sender::cycle() {
  if (!connection()) return;  // PostgreSQL away: try again next cycle
  if (!recovered_) recover();
  Settings settings;
  std::shared_ptr<const Templates> templates;
  {
    std::lock_guard lock(mu_);
    settings = settings_;
    templates = templates_;
  }
  // Claim until nothing is due (a batch of members per transaction), sending as we go.
  for (int round = 0; round < 100; ++round) {
    ClaimResult r = claim_due(*connection(), ClaimContext{settings, *templates, deps_.domain});
    for (const auto& [reason, n] : r.cancelled)
      metrics_
          .counter("salon_email_cancelled_total", "Pending notifications dropped, by reason",
                   {{"reason", reason}})
          .inc(n);
    if (!r.handled.empty()) deps_.handled(std::move(r.handled));
    const std::size_t sent = send_ready();
    if (r.members == 0 && sent == 0) break;
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
    }
  }
  gauges();
}

// A restart after 'sending' was recorded: the server may have the message. Never resent.
void Sender::recover() {
  pqxx::work tx(*connection(), "email-recover");
  const auto rows = tx.exec(
      "UPDATE email_outbox SET state = 'in_doubt', finished_at = now(), attempts = attempts + 1, "
      "last_error = 'salond stopped after the end of DATA, before the reply was recorded' "
      "WHERE state = 'sending' RETURNING id, jid, message_id");
  std::vector<Handled> handled;
  for (const auto& r : rows) {
    log::error("email",
               "digest {} to {} ({}) is in doubt: salond stopped while the SMTP server "
               "was answering; it is not sent again",
               r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::string>());
    in_doubt_.inc();
    finish(tx, r[0].as<std::int64_t>(), handled);
  }
  tx.commit();
  recovered_ = true;
  if (!handled.empty()) deps_.handled(std::move(handled));
}

std::size_t Sender::send_ready() {
  std::vector<std::int64_t> ids;
  {
    pqxx::read_transaction tx(*connection(), "email-ready");
    for (const auto& r : tx.exec(kReady))
      ids.push_back(r[0].as<std::int64_t>());
  }
  std::size_t handled = 0;
  for (const auto id : ids) {
    {
      std::lock_guard lock(mu_);
      if (stop_) break;
    }
    handled += send(id) ? 1 : 0;
  }
  return handled;
}

// Just before the SMTP transaction: a member who read or joined since the claim flagged the
// row (pending.cpp, cancel); the digest is then superseded and the rest of its rooms go back
// to be claimed anew with what is news now. False: nothing to send.
bool Sender::precheck(std::int64_t id, std::string& address, std::string& raw) {
  pqxx::work tx(*connection(), "email-precheck");
  const auto o =
      tx.exec_params("SELECT address, raw, state FROM email_outbox WHERE id = $1 FOR UPDATE", id);
  if (o.empty()) return false;
  const std::string state = o[0][2].as<std::string>();
  if (state != "claimed" && state != "retry") return false;
  std::size_t rows = 0, cancelled = 0;
  for (const auto& r :
       tx.exec_params("SELECT cancelled FROM email_pending WHERE claimed_by = $1 FOR UPDATE", id)) {
    ++rows;
    cancelled += r[0].as<bool>() ? 1 : 0;
  }
  if (rows == 0 || cancelled > 0) {
    tx.exec_params0("DELETE FROM email_pending WHERE claimed_by = $1 AND cancelled", id);
    tx.exec_params0(
        "UPDATE email_pending SET claimed_by = NULL, due_at = now() "
        "WHERE claimed_by = $1",
        id);
    tx.exec_params0(
        "UPDATE email_outbox SET state = 'cancelled', finished_at = now(), "
        "last_error = 'superseded: read or joined before it was sent' WHERE id = $1",
        id);
    tx.commit();
    if (cancelled > 0)
      metrics_
          .counter("salon_email_cancelled_total", "Pending notifications dropped, by reason",
                   {{"reason", "read_before_send"}})
          .inc(cancelled);
    return false;
  }
  address = o[0][0].as<std::string>();
  raw = o[0][1].as<std::string>();
  tx.commit();
  return true;
}

bool Sender::send(std::int64_t id) {
  {
    // After a failure to reach the server, new digests wait (they stay 'claimed') instead of
    // each waiting out a connect timeout; the first one after the pause is the probe.
    std::lock_guard lock(mu_);
    if (std::chrono::steady_clock::now() < paused_until_) return false;
    if (new_client_ || !client_) client_ = std::make_unique<SmtpClient>(settings_);
    new_client_ = false;
  }
  std::string address, raw;
  if (!precheck(id, address, raw)) return true;
  const auto t0 = std::chrono::steady_clock::now();
  const SmtpOutcome o = client_->send(address, raw, [this, id] {
    try {
      pqxx::work tx(*connection(), "email-sending");
      tx.exec_params0("UPDATE email_outbox SET state = 'sending' WHERE id = $1", id);
      tx.commit();
      return true;
    } catch (const std::exception& e) {
      log::warn("email", "digest {}: cannot record the attempt, not sending it now: {}", id,
                e.what());
      return false;
    }
  });
  send_seconds_.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  set_smtp(o);
  // The outcome must be recorded: after a 250, losing it would send the digest again. Retry
  // while PostgreSQL is away (a restart meanwhile finds it 'sending': in doubt, not resent).
  for (int attempt = 0;; ++attempt) {
    try {
      record(id, o);
      return true;
    } catch (const std::exception& e) {
      if (conn_) conn_->drop();
      log::warn("email", "digest {}: recording '{}' failed (attempt {}): {}", id, to_string(o.kind),
                attempt + 1, e.what());
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_; })) return true;
    }
  }
}

void Sender::set_smtp(const SmtpOutcome& o) {
  std::lock_guard lock(mu_);
  smtp_.tried = true;
  if (o.kind == SmtpOutcome::Kind::temporary && o.code == 0)
    paused_until_ = std::chrono::steady_clock::now() + settings_.retry_initial;
  // A definite answer (accepted, or refused for this address) means the server is there.
  smtp_.up = o.kind == SmtpOutcome::Kind::sent || o.kind == SmtpOutcome::Kind::permanent;
  if (!smtp_.up) smtp_.detail = fmt::format("{} ({})", o.reply, to_string(o.kind));
  smtp_up_.set(smtp_.up ? 1 : 0);
}

void Sender::record(std::int64_t id, const SmtpOutcome& o) {
  Settings s;
  {
    std::lock_guard lock(mu_);
    s = settings_;
  }
  if (!connection()) throw std::runtime_error("PostgreSQL is not reachable");
  pqxx::work tx(*connection(), "email-record");
  tx.exec_params0("UPDATE email_outbox SET attempts = attempts + 1 WHERE id = $1", id);
  std::vector<Handled> handled;
  const std::string reply = o.reply.substr(0, 1000);
  switch (o.kind) {
    case SmtpOutcome::Kind::sent: {
      tx.exec_params0(
          "UPDATE email_outbox SET state = 'sent', finished_at = now(), "
          "last_error = NULL WHERE id = $1",
          id);
      // The throttle of every room the digest covered.
      const auto now_us =
          tx.exec1("SELECT (extract(epoch FROM now()) * 1000000)::bigint")[0].as<std::int64_t>();
      const auto rooms = tx.exec_params(
          "SELECT o.room_id, x.jid, (extract(epoch FROM t.last_sent_at) * 1000000)::bigint, "
          "t.streak FROM email_outbox_rooms o JOIN email_outbox x ON x.id = o.outbox_id "
          "LEFT JOIN email_throttle t ON t.room_id = o.room_id AND t.jid = x.jid "
          "WHERE o.outbox_id = $1",
          id);
      for (const auto& r : rooms) {
        std::optional<ThrottleState> prev;
        if (!r[2].is_null()) prev = ThrottleState{r[2].as<std::int64_t>(), r[3].as<int>()};
        const ThrottleNext next = after_email(prev, now_us, s.throttle, s.throttle_reset);
        tx.exec_params0(
            "INSERT INTO email_throttle (room_id, jid, last_sent_at, streak, next_allowed_at) "
            "VALUES ($1, $2, now(), $3, $4::timestamptz) ON CONFLICT (room_id, jid) DO UPDATE "
            "SET last_sent_at = now(), streak = excluded.streak, "
            "next_allowed_at = excluded.next_allowed_at",
            r[0].as<std::int64_t>(), r[1].as<std::string>(), next.streak,
            format_stamp(next.next_allowed_us));
      }
      finish(tx, id, handled);
      sent_.inc();
      break;
    }
    case SmtpOutcome::Kind::temporary: {
      const auto row = tx.exec_params1(
          "SELECT attempts, created_at < now() - make_interval(secs => $2) FROM email_outbox "
          "WHERE id = $1",
          id, static_cast<double>(s.give_up_after.count()));
      failed_temporary_.inc();
      if (row[1].as<bool>()) {
        tx.exec_params0(
            "UPDATE email_outbox SET state = 'failed', finished_at = now(), "
            "last_error = $2 WHERE id = $1",
            id, "gave up after temporary failures; last: " + reply);
        log::error("email", "digest {}: gave up after temporary failures: {}", id, reply);
        finish(tx, id, handled);
        break;
      }
      const auto wait = retry_delay(std::max(1, row[0].as<int>()), s.retry_initial, s.retry_max);
      tx.exec_params0(
          "UPDATE email_outbox SET state = 'retry', last_error = $2, "
          "next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1",
          id, reply, static_cast<double>(wait.count()));
      log::warn("email", "digest {}: temporary failure, retry in {} s: {}", id, wait.count(),
                reply);
      break;
    }
    case SmtpOutcome::Kind::permanent: {
      tx.exec_params0(
          "UPDATE email_outbox SET state = 'failed', finished_at = now(), "
          "last_error = $2 WHERE id = $1",
          id, reply);
      tx.exec_params0(
          "INSERT INTO email_bounces (jid, address, reply) SELECT jid, address, $2 "
          "FROM email_outbox WHERE id = $1 ON CONFLICT (jid) DO UPDATE "
          "SET address = excluded.address, reply = excluded.reply, bounced_at = now()",
          id, reply);
      log::warn("email", "digest {}: refused for good, the address is marked bouncing: {}", id,
                reply);
      failed_permanent_.inc();
      finish(tx, id, handled);
      break;
    }
    case SmtpOutcome::Kind::in_doubt: {
      tx.exec_params0(
          "UPDATE email_outbox SET state = 'in_doubt', finished_at = now(), "
          "last_error = $2 WHERE id = $1",
          id, "no reply after the end of DATA: " + reply);
      log::error("email", "digest {} is in doubt (no reply after the end of DATA): {}", id, reply);
      in_doubt_.inc();
      finish(tx, id, handled);
      break;
    }
  }
  tx.commit();
  if (!handled.empty()) deps_.handled(std::move(handled));
}

// The digest is over (delivered, refused or in doubt): its pending rows go, and the loop
// hears which messages it covered.
void Sender::finish(pqxx::dbtransaction& tx, std::int64_t id, std::vector<Handled>& handled) {
  for (const auto& r : tx.exec_params(kFinishRows, id))
    handled.push_back({r[0].as<std::int64_t>(), r[1].as<std::string>(),
                       r[2].is_null() ? 0 : r[2].as<std::int64_t>()});
}

void Sender::gauges() {
  pqxx::read_transaction tx(*connection(), "email-gauges");
  const auto r = tx.exec1(
      "SELECT (SELECT count(*) FROM email_pending) + "
      "  (SELECT count(*) FROM email_outbox WHERE state IN ('claimed', 'sending', 'retry')), "
      "greatest(0, extract(epoch FROM now() - least("
      "  (SELECT min(due_at) FROM email_pending WHERE claimed_by IS NULL), "
      "  (SELECT min(created_at) FROM email_outbox WHERE state IN ('claimed', 'retry')))))");
  depth_.set(r[0].as<double>());
  oldest_.set(r[1].is_null() ? 0 : r[1].as<double>());
}

}  // namespace salon::email
