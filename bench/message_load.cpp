// SPDX-License-Identifier: GPL-3.0-or-later
// The message phase: every occupant sends groupchat messages (round-robin over rooms, then
// over occupants) with at most `window` unreflected messages in flight (closed loop), or at a
// fixed rate (open loop, --rate). A message is "accepted" when the sender's own reflected
// copy arrives (matched by the id the sender chose, which the room keeps); every delivery of
// it to the room's occupants is counted, and any message not delivered to every occupant is
// reported.
#include <boost/asio/steady_timer.hpp>

#include <charconv>

#include "scenario.hpp"

namespace salon::bench {

namespace asio = boost::asio;

namespace {

struct LoadState {
  Bench& b;
  LoadPhase& res;
  std::string body;
  std::vector<Clock::time_point> t_send;
  std::vector<std::uint32_t> sender;
  std::vector<std::uint8_t> delivered;  // deliveries seen per message (saturating)
  std::vector<bool> reflected;
  std::size_t inflight = 0, cursor = 0, limit = 0;
  bool sending = true;
  Clock::time_point t0, warm, stop;
  std::string buf;

  // The next sender: rooms round-robin, and within a room its occupants in turn.
  std::size_t next_sender() {
    const std::size_t rooms = b.opts.rooms, occ = b.opts.occupants;
    const std::size_t room = cursor % rooms, k = (cursor / rooms) % occ;
    ++cursor;
    return room * occ + k;
  }

  void send_one() {
    const std::size_t i = next_sender();
    const std::size_t seq = t_send.size();
    const auto& o = b.world.occ[i];
    char num[24];
    const auto n = std::to_chars(num, num + sizeof num, seq).ptr - num;
    const std::string_view id(num, static_cast<std::size_t>(n));
    buf.clear();
    buf.append("<message type='groupchat' from='")
        .append(o.jid)
        .append("' to='")
        .append(b.world.rooms[o.room].jid)
        .append("' id='m")
        .append(id)
        .append("'><body>")
        .append(body)
        .append("</body><origin-id xmlns='urn:xmpp:sid:0' id='o")
        .append(id)
        .append("'/></message>");
    t_send.push_back(Clock::now());
    sender.push_back(static_cast<std::uint32_t>(i));
    delivered.push_back(0);
    reflected.push_back(false);
    ++inflight;
    ++res.sent;
    b.link.send(buf);
  }

  bool may_send() const { return sending && (limit == 0 || res.sent < limit); }

  void pump_closed_loop() {
    while (may_send() && inflight < res.window)
      send_one();
  }

  void on_stanza(const Stanza& s) {
    if (s.name != "message") return;
    const auto seq = parse_seq(s.attr("id"), 'm');
    if (!seq || *seq >= t_send.size()) return;
    const auto now = Clock::now();
    const std::string_view type = s.attr("type");
    if (type == "error") {
      ++res.errors;
      if (!reflected[*seq]) {
        reflected[*seq] = true;  // settled: it will never be reflected
        --inflight;
      }
      return;
    }
    if (type != "groupchat") return;
    ++res.deliveries;
    const bool in_window = now >= warm && now <= stop;
    if (in_window) ++res.deliveries_window;
    if (delivered[*seq] < 255) ++delivered[*seq];
    if (reflected[*seq] || s.attr("to") != b.world.occ[sender[*seq]].jid) return;
    reflected[*seq] = true;
    --inflight;
    ++res.accepted;
    if (in_window) ++res.accepted_window;
    if (t_send[*seq] >= warm && t_send[*seq] <= stop) res.reflection.add(now - t_send[*seq]);
    if (inflight == 0 && !may_send()) b.notify();
  }
};

// Open loop: every millisecond, send what the rate says is due (never more than `window`
// unanswered: what could not be sent is counted as the rate not being met, not queued).
void tick(LoadState& st, asio::steady_timer& timer, double rate) {
  timer.expires_after(std::chrono::milliseconds(1));
  timer.async_wait([&st, &timer, rate](const boost::system::error_code& ec) {
    if (ec || !st.may_send()) return;
    const double due = rate * seconds_between(st.t0, Clock::now());
    while (st.may_send() && static_cast<double>(st.res.sent) < due && st.inflight < st.res.window)
      st.send_one();
    tick(st, timer, rate);
  });
}

}  // namespace

asio::awaitable<LoadPhase> message_load(Bench& b) {
  LoadPhase res;
  res.window = b.opts.window;
  LoadState st{b, res, {}, {}, {}, {}, {}, 0, 0, 0, true, {}, {}, {}, {}};
  st.limit = b.opts.messages_per_occupant * b.world.occ.size();
  // A plain-text body of the requested size, like a short chat message.
  const std::string_view words = "the quick brown fox jumps over the lazy dog and ";
  while (st.body.size() < b.opts.body_bytes)
    st.body += words;
  st.body.resize(b.opts.body_bytes);
  const std::size_t expect =
      static_cast<std::size_t>(std::max(1.0, b.opts.rate) * b.opts.duration * 1.2) + 1024;
  st.t_send.reserve(std::min<std::size_t>(expect, 50'000'000));

  b.phase = "messages";
  b.handler = [&st](const Stanza& s) { st.on_stanza(s); };
  asio::steady_timer ticker(b.io);
  if (b.opts.rate <= 0) b.link.on_input_done = [&st] { st.pump_closed_loop(); };

  st.t0 = Clock::now();
  st.warm = st.t0 + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(b.opts.warmup));
  st.stop = st.t0 + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(b.opts.duration));
  const double salond_cpu0 = cpu_seconds(b.salond->pid()), bench_cpu0 = cpu_seconds(0);
  const double machine0 = machine_busy_seconds();
  double salond_cpu_warm = salond_cpu0, bench_cpu_warm = bench_cpu0, machine_warm = machine0;
  bool warm_sampled = false;
  if (b.opts.rate > 0)
    tick(st, ticker, b.opts.rate);
  else
    st.pump_closed_loop();

  // Sending ends at --duration or when every occupant sent its quota; sample CPU time at the
  // end of the warm-up and at the end of sending.
  for (;;) {
    if (!warm_sampled && Clock::now() >= st.warm) {
      salond_cpu_warm = cpu_seconds(b.salond->pid());
      bench_cpu_warm = cpu_seconds(0);
      machine_warm = machine_busy_seconds();
      warm_sampled = true;
    }
    if (Clock::now() >= st.stop || !st.may_send() || b.broken()) break;
    co_await b.wait_until([&] { return !st.may_send(); }, warm_sampled ? 0.1 : 0.01);
  }
  const auto sending_ended = Clock::now();
  if (sending_ended < st.stop) st.stop = sending_ended;  // quota reached early
  if (!warm_sampled || st.stop <= st.warm) st.warm = st.t0;
  st.sending = false;
  ticker.cancel();
  res.measured_seconds = seconds_between(st.warm, st.stop);
  const double ws = warm_sampled ? salond_cpu_warm : salond_cpu0;
  const double wb = warm_sampled ? bench_cpu_warm : bench_cpu0;
  const double wm = warm_sampled ? machine_warm : machine0;
  res.salond_cpu = (cpu_seconds(b.salond->pid()) - ws) / res.measured_seconds;
  res.bench_cpu = (cpu_seconds(0) - wb) / res.measured_seconds;
  res.other_cpu =
      (machine_busy_seconds() - wm) / res.measured_seconds - res.salond_cpu - res.bench_cpu;

  // Drain: every message sent must come back (or be refused with an error).
  const std::size_t per_room = b.opts.occupants;
  co_await b.wait_until(
      [&] {
        return st.inflight == 0 &&
               res.deliveries + res.errors * per_room >= res.accepted * per_room;
      },
      30.0);
  res.total_seconds = seconds_between(st.t0, Clock::now());
  res.lost = st.inflight;
  for (std::size_t seq = 0; seq < st.delivered.size(); ++seq)
    if (st.reflected[seq] && st.delivered[seq] != per_room && st.delivered[seq] != 0)
      ++res.incomplete;
  res.in_per_s = static_cast<double>(res.accepted_window) / res.measured_seconds;
  res.out_per_s = static_cast<double>(res.deliveries_window) / res.measured_seconds;
  b.handler = nullptr;
  b.link.on_input_done = nullptr;
  co_return res;
}

}  // namespace salon::bench
