// SPDX-License-Identifier: GPL-3.0-or-later
// The benchmark's shared state: options, the generated world (rooms, occupants), the link to
// salond (ComponentServer), stanza dispatch to the running phase, error accounting, and the
// coroutine helpers the phases use to wait for conditions.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <utility>  // before Boost 1.74's awaitable.hpp, which uses std::exchange without it

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "component_server.hpp"
#include "process.hpp"
#include "stats.hpp"

namespace salon::bench {

struct Options {
  std::size_t rooms = 1000;
  std::size_t occupants = 3;              // per room
  std::size_t messages_per_occupant = 0;  // 0: until --duration
  double duration = 10.0;                 // message phase, seconds (warm-up included)
  double warmup = 1.0;                    // excluded from rates and latencies
  std::size_t window = 0;                 // messages in flight (0: the default, 128)
  double rate = 0;                        // > 0: open loop at this many messages/s
  std::size_t body_bytes = 64;
  std::size_t join_window = 8;
  std::size_t iq_queries = 5000;
  std::size_t iq_window = 1;
  std::size_t load_window = 32;  // room loads (disco#info) in flight
  std::size_t http_connections = 8;
  std::string salond;  // binary
  std::string pg;      // libpq conninfo
  std::string domain = "rooms.localhost";
  std::string user_domain = "localhost";
  std::string salond_cpus, bench_cpus;  // taskset -c lists; empty: not pinned
  std::string log_level = "warn";
  std::string workdir;
  bool keep = false;
  bool archive = false;  // salond with [plugins.archive] (durable write path)
  // > 0: the email plugin (and markers) too, and this many more members per room who never
  // join and have an address: every message is missed by each of them (issue 13's cost).
  std::size_t email_offline = 0;
  std::string email_smtp = "smtp://127.0.0.1:9";  // --email-smtp
  std::size_t email_delay = 86400;                // --email-delay: seconds until due
};

struct RoomInfo {
  std::string id;   // project id = room localpart
  std::string jid;  // id@domain
};

struct OccupantInfo {
  std::size_t room = 0;
  std::string bare, jid, nick, role;  // jid: full, user@localhost/r
};

struct World {
  std::string run_id;
  std::vector<RoomInfo> rooms;
  std::vector<OccupantInfo> occ;                        // room-major: index = room * occupants + k
  std::unordered_map<std::string, std::size_t> by_jid;  // full JID -> occupant index

  static World make(const Options& o, std::string run_id);
  [[nodiscard]] std::string occupant_jid_in_room(std::size_t i) const;  // room@domain/nick
};

class Bench {
public:
  Bench(boost::asio::io_context& io, Options opts, World world, ComponentServer& server);

  boost::asio::io_context& io;
  const Options opts;
  const World world;
  ComponentServer& link;
  SalondProcess* salond = nullptr;

  // The running phase's stanza handler (errors are counted before it is called).
  std::function<void(const Stanza&)> handler;
  std::uint64_t unexpected = 0;  // stanzas no phase wanted

  // Stanzas of type 'error' received, by phase, with the first few kept for the report.
  std::string phase = "setup";
  std::map<std::string, std::uint64_t> errors;
  std::vector<std::string> error_samples;
  [[nodiscard]] std::uint64_t total_errors() const;

  // Wakes wait_until() so it re-checks its condition.
  void notify();
  // Waits until pred() holds (true) or `timeout_s` passes (false); also false when the link
  // to salond is lost or salond exits.
  boost::asio::awaitable<bool> wait_until(std::function<bool()> pred, double timeout_s);
  boost::asio::awaitable<void> sleep(double s);
  [[nodiscard]] bool broken() const;

private:
  void dispatch(const Stanza& s);
  boost::asio::steady_timer wake_;
};

// A request/response phase: n requests, at most `window` in flight; the phase's handler calls
// complete(i) when request i is answered. Requests are numbered 0..n-1.
class Windowed {
public:
  Windowed(Bench& b, std::size_t n, std::size_t window,
           std::function<std::string(std::size_t)> make);
  void start();
  // Returns false when i was already complete (a duplicate answer).
  bool complete(std::size_t i);
  [[nodiscard]] Clock::time_point started(std::size_t i) const { return start_[i]; }
  [[nodiscard]] bool pending(std::size_t i) const { return i < sent_ && !done_[i]; }
  [[nodiscard]] bool finished() const { return completed_ == n_; }
  [[nodiscard]] std::size_t completed() const { return completed_; }

private:
  void fill();
  Bench& b_;
  std::size_t n_, window_, sent_ = 0, completed_ = 0, inflight_ = 0;
  std::function<std::string(std::size_t)> make_;
  std::vector<Clock::time_point> start_;
  std::vector<bool> done_;
};

// "d123" with prefix "d" -> 123.
std::optional<std::size_t> parse_seq(std::string_view id, char prefix);

// ---- phases (setup_phases.cpp, message_load.cpp)
struct HttpPhase {
  std::size_t ok = 0, failed = 0;
  double seconds = 0;
  std::string first_failure;
};
boost::asio::awaitable<HttpPhase> provision(Bench& b, std::uint16_t http_port,
                                            const std::string& token);
boost::asio::awaitable<HttpPhase> delete_projects(Bench& b, std::uint16_t http_port,
                                                  const std::string& token);

struct RequestPhase {
  Latencies latency;   // request -> answer
  Latencies latency2;  // joins: request -> subject (join sequence complete)
  std::size_t completed = 0, errors = 0;
  double seconds = 0;
  bool finished = false;
};
boost::asio::awaitable<RequestPhase> load_rooms(Bench& b);
boost::asio::awaitable<RequestPhase> join_all(Bench& b);
boost::asio::awaitable<RequestPhase> affiliation_queries(Bench& b);
boost::asio::awaitable<RequestPhase> leave_all(Bench& b);

struct LoadPhase {
  std::uint64_t sent = 0, accepted = 0, deliveries = 0, errors = 0, lost = 0, incomplete = 0;
  std::uint64_t accepted_window = 0, deliveries_window = 0;  // inside the measured interval
  double measured_seconds = 0, total_seconds = 0;
  double in_per_s = 0, out_per_s = 0;
  // Fractions of one CPU over the measured interval: salond (all its threads), this
  // program, and everything else on the machine (PostgreSQL, other users' work).
  double salond_cpu = 0, bench_cpu = 0, other_cpu = 0;
  std::size_t window = 0;
  Latencies reflection;
};
boost::asio::awaitable<LoadPhase> message_load(Bench& b);

}  // namespace salon::bench
