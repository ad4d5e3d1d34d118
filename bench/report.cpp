// SPDX-License-Identifier: GPL-3.0-or-later
#include "report.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>

namespace salon::bench {

namespace {
// A shell-quoted argument, so the printed command can be pasted back.
std::string quote(const std::string& a) {
  if (!a.empty() && a.find_first_of(" \t'\"\\$`;&|<>()*?!") == std::string::npos) return a;
  std::string q = "'";
  for (char c : a)
    q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

const char* verdict(bool ok) {
  return ok ? "met" : "MISSED";
}
}  // namespace

Report::Report(const Options& opts, int argc, char** argv) : opts_(opts) {
  for (int i = 0; i < argc; ++i)
    command_ += (i ? " " : "") + quote(argv[i]);
}

void Report::emit(const std::string& s) {
  std::cout << fmt::format("[{:7.2f}s] ", seconds_between(t0_, Clock::now())) << s << std::endl;
}

void Report::header() {
  const Machine m = describe_machine();
  line("command: {}", command_);
  line("machine: {} CPUs ({}), {:.1f} GiB RAM, {}", m.cpus, m.cpu_model,
       static_cast<double>(m.mem_total_kib) / (1024.0 * 1024.0), m.kernel);
  line("load average at start: {} (other work on the machine skews every figure)", load_average());
  line("pinning: salond {}, salon_load {}",
       opts_.salond_cpus.empty() ? "not pinned" : "taskset -c " + opts_.salond_cpus,
       opts_.bench_cpus.empty() ? "not pinned" : "CPUs " + opts_.bench_cpus);
  line("scenario: {} rooms x {} occupants, body {} bytes, {}", opts_.rooms, opts_.occupants,
       opts_.body_bytes,
       opts_.rate > 0
           ? fmt::format("open loop at {:.0f} msg/s (cap {} in flight)", opts_.rate, opts_.window)
           : fmt::format("closed loop with {} messages in flight", opts_.window));
}

int Report::fail(const std::string& why) {
  failed_ = true;
  line("FAILED: {}", why);
  return 1;
}

void Report::print_http(const std::string& what, const HttpPhase& p) {
  line("{}: {} ok, {} failed in {:.2f} s ({:.0f}/s over {} connections){}", what, p.ok, p.failed,
       p.seconds, static_cast<double>(p.ok) / std::max(p.seconds, 1e-9), opts_.http_connections,
       p.first_failure.empty() ? "" : "; first failure: " + p.first_failure);
}

void Report::print_requests(const std::string& what, RequestPhase& p) {
  line("{}: {} done, {} errors in {:.2f} s{}", what, p.completed, p.errors, p.seconds,
       p.finished ? "" : " (TIMED OUT)");
  line("  latency: {}", p.latency.summary());
}

void Report::print_messages(LoadPhase& p) {
  line(
      "messages: {} sent, {} accepted (reflected), {} deliveries, {} errors, {} lost, {} "
      "incompletely delivered",
      p.sent, p.accepted, p.deliveries, p.errors, p.lost, p.incomplete);
  line(
      "  measured {:.2f} s (of {:.2f} s incl. warm-up and drain): {:.0f} messages in/s, {:.0f} "
      "deliveries out/s",
      p.measured_seconds, p.total_seconds, p.in_per_s, p.out_per_s);
  line("  reflection latency: {}", p.reflection.summary());
  line(
      "  CPU while measured (100% = one core): salond {:.0f}%, salon_load {:.0f}%, everything else "
      "on the machine {:.0f}%",
      p.salond_cpu * 100, p.bench_cpu * 100, std::max(0.0, p.other_cpu * 100));
}

int Report::finish(const Bench& b) {
  const double rooms = static_cast<double>(opts_.rooms);
  const double occ = static_cast<double>(b.world.occ.size());
  const double per_room =
      (static_cast<double>(rss_loaded) - static_cast<double>(rss_provisioned)) / rooms;
  const double per_occ = (static_cast<double>(rss_joined) - static_cast<double>(rss_loaded)) / occ;
  line("RSS KiB: start {} | provisioned {} | {} rooms loaded {} | {} joined {} | after load {}",
       rss_start, rss_provisioned, opts_.rooms, rss_loaded, b.world.occ.size(), rss_joined,
       rss_after_load);
  line("RSS per loaded idle room: {:.2f} KiB; per occupant: {:.2f} KiB", per_room, per_occ);
  line(
      "stanzas: {} in from salond, {} bytes in, {} bytes out, {} keepalive pings answered, {} "
      "unexpected",
      b.link.stanzas_in, b.link.bytes_in, b.link.bytes_out, b.link.pings_answered, b.unexpected);
  for (const auto& [phase, n] : b.errors)
    line("error stanzas in phase {}: {}", phase, n);
  for (const auto& s : b.error_samples)
    line("  e.g. {}", s);

  const double msgs = messages.in_per_s;
  const double join_p99 = join.latency.quantile(0.99) / 1e3;
  const double iq_p99 = affiliations.latency.quantile(0.99) / 1e3;
  line("| target (issue 3) | measured | |");
  line("| >= 30,000 messages/s in | {:.0f} messages/s | {} |", msgs,
       opts_.rate > 0 ? "n/a: open loop at a fixed rate" : verdict(msgs >= 30000));
  line("| join p99 < 5 ms | {:.3f} ms | {} |", join_p99, verdict(join_p99 < 5.0));
  line("| affiliation-list IQ p99 < 2 ms | {:.3f} ms | {} |", iq_p99, verdict(iq_p99 < 2.0));
  line("| <= 2 KiB per loaded idle room | {:.2f} KiB | {} |", per_room, verdict(per_room <= 2.0));

  const bool clean = !failed_ && b.total_errors() == 0 && messages.lost == 0 &&
                     messages.incomplete == 0 && leave.finished;
  line("run {}", clean ? "clean: no errors, nothing lost" : "NOT clean (see above)");
  return clean ? 0 : 1;
}

}  // namespace salon::bench
