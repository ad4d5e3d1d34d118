// SPDX-License-Identifier: GPL-3.0-or-later
#include "sender.hpp"

#include <fmt/format.h>

#include <pqxx/pqxx>

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/stamp.hpp"
#include "db/database.hpp"
#include "db/pg_array.hpp"
#include "schedule.hpp"

namespace salon::email {
namespace {

std::string ready_sql() {
  return "SELECT id FROM email_outbox WHERE (state = 'claimed' "
         "OR (state = 'retry' AND next_attempt_at <= now())) AND " +
         shard_filter("jid", 1, 2) + " ORDER BY id LIMIT 50";
}
const std::string kReady = ready_sql();

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

struct Sender::Worker {
  std::size_t index = 0;
  std::unique_ptr<db::OwnConnection> conn;
  std::unique_ptr<SmtpClient> client;
  std::uint64_t client_generation = 0;  // the settings it was made with
  std::thread thread;

  pqxx::connection_base& db() {
    pqxx::connection_base* c = conn->get();
    if (!c) throw std::runtime_error("PostgreSQL is not reachable");
    return *c;
  }
};

Sender::~Sender() {
  stop();
}

void Sender::start() {
  std::size_t n = 0;
  {
    std::lock_guard lock(mu_);
    n = settings_.senders;
  }
  for (std::size_t k = 0; k < n; ++k) {
    auto w = std::make_unique<Worker>();
    w->index = k;
    w->conn = deps_.database.own_connection("email-" + std::to_string(k));
    workers_.push_back(std::move(w));
  }
  for (auto& w : workers_)
    w->thread = std::thread([this, p = w.get()] { run(*p); });
}

void Sender::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
  workers_.clear();  // their connections go before the database
}

bool Sender::stopping() const {
  std::lock_guard lock(mu_);
  return stop_;
}

void Sender::wake() {
  {
    std::lock_guard lock(mu_);
    ++wakes_;
  }
  cv_.notify_all();
}

void Sender::update(Settings settings, std::shared_ptr<const Templates> templates) {
  std::lock_guard lock(mu_);
  const std::size_t n = settings_.senders;
  settings_ = std::move(settings);
  settings_.senders = n;  // the threads stay as they are until a restart
  templates_ = std::move(templates);
  ++settings_generation_;  // each sender makes a new SMTP client for its next send
}

Sender::SmtpState Sender::smtp_state() const {
  std::lock_guard lock(mu_);
  return smtp_;
}

void Sender::run(Worker& w) {
  std::uint64_t seen_wakes = 0;
  while (true) {
    std::chrono::milliseconds interval;
    {
      std::unique_lock lock(mu_);
      if (stop_) break;
      interval = settings_.poll_interval;
      seen_wakes = wakes_;
    }
    try {
      cycle(w);
    } catch (const pqxx::broken_connection& e) {
      log::warn("email", "sender {}: PostgreSQL connection lost: {}", w.index, e.what());
      w.conn->drop();
      errors_.inc();
    } catch (const std::exception& e) {
      log::error("email", "sender {}: {}", w.index, e.what());
      errors_.inc();
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, interval, [this, seen_wakes] { return stop_ || wakes_ != seen_wakes; });
  }
  w.client.reset();
}

void Sender::cycle(Worker& w) {
  if (!w.conn->get()) return;  // PostgreSQL away: try again next cycle
  if (w.index == 0 && !recovered_) recover(w);
  Settings settings;
  std::shared_ptr<const Templates> templates;
  {
    std::lock_guard lock(mu_);
    settings = settings_;
    templates = templates_;
  }
  // Claim until nothing is due (a batch of members per transaction), sending as we go.
  const ClaimContext ctx{settings, *templates, deps_.domain, static_cast<std::int64_t>(w.index),
                         static_cast<std::int64_t>(settings.senders)};
  for (int round = 0; round < 1000 && !stopping(); ++round) {
    ClaimResult r = claim_due(w.db(), ctx);
    for (const auto& [reason, n] : r.cancelled)
      metrics_
          .counter("salon_email_cancelled_total", "Pending notifications dropped, by reason",
                   {{"reason", reason}})
          .inc(n);
    if (!r.handled.empty()) deps_.handled(std::move(r.handled));
    const std::size_t sent = send_ready(w);
    if (r.members == 0 && sent == 0) break;
  }
  if (w.index == 0) gauges(w);
}

// A restart after 'sending' was recorded: the server may have the message. Never resent.
// (Sender 0 does it before its first claim; the others never touch 'sending' rows.)
void Sender::recover(Worker& w) {
  pqxx::work tx(w.db(), "email-recover");
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

// This sender's members' digests that are ready: claimed (now, or by an earlier process) or
// due for a retry.
std::size_t Sender::send_ready(Worker& w) {
  std::vector<std::int64_t> ids;
  std::int64_t n = 0;
  {
    std::lock_guard lock(mu_);
    n = static_cast<std::int64_t>(settings_.senders);
  }
  {
    pqxx::read_transaction tx(w.db(), "email-ready");
    for (const auto& r : tx.exec_params(kReady, static_cast<std::int64_t>(w.index), n))
      ids.push_back(r[0].as<std::int64_t>());
  }
  std::size_t attempted = 0;
  for (const auto id : ids) {
    if (stopping()) break;
    attempted += send(w, id) ? 1 : 0;
  }
  return attempted;
}

// Just before the SMTP transaction: a member who read or joined since the claim flagged the
// row (pending.cpp, cancel); the digest is then superseded and the rest of its rooms go back
// to be claimed anew with what is news now. False: nothing to send.
bool Sender::precheck(Worker& w, std::int64_t id, std::string& address, std::string& raw) {
  std::int64_t rows = 0, cancelled = 0;
  {
    // Read only (no WAL, no fsync): only this sender sends this member's digests.
    pqxx::read_transaction tx(w.db(), "email-precheck");
    const auto o = tx.exec_params(
        "SELECT o.address, o.raw, o.state, "
        "(SELECT count(*) FROM email_pending WHERE claimed_by = o.id), "
        "(SELECT count(*) FROM email_pending WHERE claimed_by = o.id AND cancelled) "
        "FROM email_outbox o WHERE o.id = $1",
        id);
    if (o.empty()) return false;
    const std::string state = o[0][2].as<std::string>();
    if (state != "claimed" && state != "retry") return false;
    rows = o[0][3].as<std::int64_t>();
    cancelled = o[0][4].as<std::int64_t>();
    address = o[0][0].as<std::string>();
    raw = o[0][1].as<std::string>();
  }
  if (rows > 0 && cancelled == 0) return true;
  pqxx::work tx(w.db(), "email-superseded");
  tx.exec_params0("DELETE FROM email_pending WHERE claimed_by = $1 AND cancelled", id);
  tx.exec_params0(
      "UPDATE email_pending SET claimed_by = NULL, due_at = now() WHERE claimed_by = $1", id);
  tx.exec_params0(
      "UPDATE email_outbox SET state = 'cancelled', finished_at = now(), "
      "last_error = 'superseded: read or joined before it was sent' WHERE id = $1",
      id);
  tx.commit();
  if (cancelled > 0)
    metrics_
        .counter("salon_email_cancelled_total", "Pending notifications dropped, by reason",
                 {{"reason", "read_before_send"}})
        .inc(static_cast<std::uint64_t>(cancelled));
  return false;
}

bool Sender::send(Worker& w, std::int64_t id) {
  {
    // After a failure to reach the server, new digests wait (they stay 'claimed') instead of
    // each waiting out a connect timeout; the first one after the pause is the probe.
    std::lock_guard lock(mu_);
    if (std::chrono::steady_clock::now() < paused_until_) return false;
    if (!w.client || w.client_generation != settings_generation_) {
      w.client = std::make_unique<SmtpClient>(settings_);
      w.client_generation = settings_generation_;
    }
  }
  std::string address, raw;
  if (!precheck(w, id, address, raw)) return true;
  const auto t0 = std::chrono::steady_clock::now();
  const SmtpOutcome o = w.client->send(address, raw, [&w, id] {
    try {
      pqxx::work tx(w.db(), "email-sending");
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
      record(w, id, o);
      return true;
    } catch (const std::exception& e) {
      w.conn->drop();
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

void Sender::record(Worker& w, std::int64_t id, const SmtpOutcome& o) {
  Settings s;
  {
    std::lock_guard lock(mu_);
    s = settings_;
  }
  pqxx::work tx(w.db(), "email-record");
  tx.exec_params0("UPDATE email_outbox SET attempts = attempts + 1 WHERE id = $1", id);
  std::vector<Handled> handled;
  const std::string reply = o.reply.substr(0, 1000);
  switch (o.kind) {
    case SmtpOutcome::Kind::sent: {
      // Without an fsync of its own: if PostgreSQL loses it in a crash, the digest is found
      // 'sending' (that UPDATE was synchronous) and becomes in_doubt, never sent twice.
      tx.exec0("SET LOCAL synchronous_commit = off");
      tx.exec_params0(
          "UPDATE email_outbox SET state = 'sent', finished_at = now(), "
          "last_error = NULL WHERE id = $1",
          id);
      // The throttle of every room the digest covered, in one statement.
      const auto rooms = tx.exec_params(
          "SELECT o.room_id, x.jid, (extract(epoch FROM t.last_sent_at) * 1000000)::bigint, "
          "t.streak, (extract(epoch FROM now()) * 1000000)::bigint "
          "FROM email_outbox_rooms o JOIN email_outbox x ON x.id = o.outbox_id "
          "LEFT JOIN email_throttle t ON t.room_id = o.room_id AND t.jid = x.jid "
          "WHERE o.outbox_id = $1",
          id);
      db::ArrayText room_ids, streaks, nexts;
      std::string jid;
      for (const auto& r : rooms) {
        std::optional<ThrottleState> prev;
        if (!r[2].is_null()) prev = ThrottleState{r[2].as<std::int64_t>(), r[3].as<int>()};
        const ThrottleNext next =
            after_email(prev, r[4].as<std::int64_t>(), s.throttle, s.throttle_reset);
        jid = r[1].as<std::string>();
        room_ids.add(r[0].as<std::int64_t>());
        streaks.add(static_cast<std::int64_t>(next.streak));
        nexts.add(format_stamp(next.next_allowed_us));
      }
      if (!rooms.empty())
        tx.exec_params0(
            "INSERT INTO email_throttle (room_id, jid, last_sent_at, streak, next_allowed_at) "
            "SELECT r, $1, now(), s, n FROM unnest($2::bigint[], $3::int[], $4::timestamptz[]) "
            "AS u(r, s, n) ON CONFLICT (room_id, jid) DO UPDATE "
            "SET last_sent_at = now(), streak = excluded.streak, "
            "next_allowed_at = excluded.next_allowed_at",
            jid, room_ids.done(), streaks.done(), nexts.done());
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

void Sender::gauges(Worker& w) {
  pqxx::read_transaction tx(w.db(), "email-gauges");
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
