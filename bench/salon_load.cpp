// SPDX-License-Identifier: GPL-3.0-or-later
// salon_load: the component-level benchmark of salond (issue 3, "Performance").
//
// It plays the XMPP server: listens on loopback, starts salond with a generated config that
// points at it, accepts salond's XEP-0114 link and injects stanzas as if from users. Phases:
// provision R projects over HTTP, load the rooms, join R x occupants, affiliation-list IQs,
// then the groupchat load; RSS of salond is sampled between phases. See bench/README.md.
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include "http_client.hpp"
#include "report.hpp"
#include "scenario.hpp"

namespace salon::bench {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

// Waits until salond's /readyz says 200 (link authenticated, PostgreSQL answering).
asio::awaitable<bool> wait_ready(Bench& b, std::uint16_t http_port) {
  HttpClient http(b.io, "127.0.0.1", http_port);
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline && !b.broken()) {
    const HttpResponse r = co_await http.request("GET", "/readyz");
    if (r.status == 200) co_return true;
    co_await b.sleep(0.05);
  }
  co_return false;
}

// RSS after letting salond settle (write-behind timers, trailing database work).
asio::awaitable<std::uint64_t> idle_rss(Bench& b, double settle_s) {
  co_await b.sleep(settle_s);
  co_return rss_kib(b.salond->pid());
}

asio::awaitable<int> run(Bench& b, std::uint16_t http_port, const std::string& token, Report& rep) {
  if (!co_await b.wait_until([&] { return b.link.authenticated(); }, 30.0)) {
    rep.fail("salond did not complete the XEP-0114 handshake: " + b.link.failure());
    co_return 1;
  }
  rep.line("salond connected and authenticated (pid {})", b.salond->pid());
  if (!co_await wait_ready(b, http_port)) {
    rep.fail("salond never became ready (/readyz)");
    co_return 1;
  }
  rep.rss_start = co_await idle_rss(b, 1.0);
  rep.line("RSS idle, nothing loaded: {} KiB ({} threads)", rep.rss_start,
           thread_count(b.salond->pid()));

  rep.provision = co_await provision(b, http_port, token);
  rep.print_http("provision", rep.provision);
  if (rep.provision.failed || rep.provision.ok != b.opts.rooms)
    co_return rep.fail("provisioning failed");
  rep.rss_provisioned = co_await idle_rss(b, 1.0);
  rep.line("RSS idle, {} rooms provisioned, none loaded: {} KiB", b.opts.rooms,
           rep.rss_provisioned);

  rep.load = co_await load_rooms(b);
  rep.print_requests("room load (disco#info, cold: read from PostgreSQL)", rep.load);
  if (!rep.load.finished || rep.load.errors) co_return rep.fail("loading rooms failed");
  rep.rss_loaded = co_await idle_rss(b, 1.5);
  rep.line("RSS idle, {} rooms loaded: {} KiB", b.opts.rooms, rep.rss_loaded);

  rep.join = co_await join_all(b);
  rep.print_requests("join (presence -> self-presence 110)", rep.join);
  rep.line("  join sequence complete (-> subject): {}", rep.join.latency2.summary());
  if (!rep.join.finished || rep.join.errors) co_return rep.fail("joins failed");
  rep.rss_joined = co_await idle_rss(b, 1.5);
  rep.line("RSS idle, {} occupants joined: {} KiB", b.world.occ.size(), rep.rss_joined);

  rep.affiliations = co_await affiliation_queries(b);
  rep.print_requests("affiliation list (muc#admin get member)", rep.affiliations);
  if (!rep.affiliations.finished || rep.affiliations.errors)
    co_return rep.fail("affiliation queries failed");

  rep.messages = co_await message_load(b);
  rep.print_messages(rep.messages);
  rep.rss_after_load = co_await idle_rss(b, 1.0);
  rep.line("RSS idle after the message load: {} KiB", rep.rss_after_load);

  rep.leave = co_await leave_all(b);
  rep.print_requests("leave", rep.leave);
  if (!b.opts.keep) {
    const HttpPhase del = co_await delete_projects(b, http_port, token);
    rep.print_http("delete projects", del);
  }
  co_return rep.finish(b);
}

void usage() {
  std::cout << R"(usage: salon_load [options]
  --rooms N                  rooms (projects) to provision and load (1000)
  --occupants N              occupants per room (3: client, designer, staff)
  --messages-per-occupant N  stop the message phase after N messages per occupant (0: use --duration)
  --duration S               message phase length in seconds, warm-up included (10)
  --warmup S                 first seconds not measured (1)
  --window N                 closed loop: messages in flight (128)
  --rate N                   open loop: send N messages/s instead (window caps what is in flight)
  --body-bytes N             message body size (64)
  --join-window N            joins in flight (8)
  --iq-queries N             affiliation-list queries (5000)
  --iq-window N              affiliation-list queries in flight (1)
  --load-window N            room loads in flight (32)
  --http-connections N       parallel provisioning connections (8)
  --salond PATH              salond binary (default: this build's, else $SALON_BIN)
  --pg CONNINFO              PostgreSQL conninfo ($SALON_PG_CONNINFO)
  --salond-cpus LIST         run salond under `taskset -c LIST`
  --bench-cpus LIST          pin this program to LIST (sched_setaffinity)
  --log-level LEVEL          salond's log level (warn)
  --workdir DIR              where config and salond's logs go (a new /tmp/salon_load.* dir)
  --keep                     keep the work dir and the provisioned projects
  --archive                  enable the archive plugin: every message is committed to
                             PostgreSQL (group commit) before it is reflected
  --email N                  also the email and markers plugins, with N more members per
                             room who never join (every message is missed by them); with
                             --archive: the email plugin's cost on the write path
  --email-smtp URL           the email plugin's SMTP server (smtp://127.0.0.1:9, nothing)
  --email-delay S            seconds until a digest is due (86400: never during a run)
)";
}

bool parse_args(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i], v;
    if (a == "--help" || a == "-h") return usage(), false;
    if (a == "--keep") {
      o.keep = true;
      continue;
    }
    if (a == "--archive") {
      o.archive = true;
      continue;
    }
    if (auto eq = a.find('='); eq != std::string::npos) {
      v = a.substr(eq + 1);
      a.resize(eq);
    } else if (i + 1 < argc) {
      v = argv[++i];
    } else {
      std::cerr << "salon_load: " << a << " needs a value\n";
      return false;
    }
    auto num = [&v] { return static_cast<std::size_t>(std::stoull(v)); };
    if (a == "--email") {
      o.email_offline = num();
      continue;
    }
    if (a == "--email-smtp") {
      o.email_smtp = v;
      continue;
    }
    if (a == "--email-delay") {
      o.email_delay = num();
      continue;
    }
    try {
      if (a == "--rooms")
        o.rooms = num();
      else if (a == "--occupants")
        o.occupants = num();
      else if (a == "--messages-per-occupant")
        o.messages_per_occupant = num();
      else if (a == "--duration")
        o.duration = std::stod(v);
      else if (a == "--warmup")
        o.warmup = std::stod(v);
      else if (a == "--window")
        o.window = num();
      else if (a == "--rate")
        o.rate = std::stod(v);
      else if (a == "--body-bytes")
        o.body_bytes = num();
      else if (a == "--join-window")
        o.join_window = num();
      else if (a == "--iq-queries")
        o.iq_queries = num();
      else if (a == "--iq-window")
        o.iq_window = num();
      else if (a == "--load-window")
        o.load_window = num();
      else if (a == "--http-connections")
        o.http_connections = num();
      else if (a == "--salond")
        o.salond = v;
      else if (a == "--pg")
        o.pg = v;
      else if (a == "--salond-cpus")
        o.salond_cpus = v;
      else if (a == "--bench-cpus")
        o.bench_cpus = v;
      else if (a == "--log-level")
        o.log_level = v;
      else if (a == "--workdir")
        o.workdir = v;
      else if (a == "--domain")
        o.domain = v;
      else {
        std::cerr << "salon_load: unknown option " << a << " (--help)\n";
        return false;
      }
    } catch (const std::exception&) {
      std::cerr << "salon_load: bad value for " << a << ": " << v << "\n";
      return false;
    }
  }
  if (o.window == 0) o.window = 128;
  if (o.salond.empty()) {
    // The salond of this build first (the one the benchmark was built with), then $SALON_BIN.
    const fs::path sibling =
        (fs::canonical("/proc/self/exe").parent_path() / "../server/app/salond").lexically_normal();
    const char* env = std::getenv("SALON_BIN");
    o.salond = fs::exists(sibling) || !env || !*env ? sibling.string() : std::string(env);
  }
  if (o.pg.empty())
    if (const char* e = std::getenv("SALON_PG_CONNINFO"); e && *e) o.pg = e;
  if (o.pg.empty())
    return std::cerr << "salon_load: --pg CONNINFO (or SALON_PG_CONNINFO) is required\n", false;
  if (o.rooms == 0 || o.occupants == 0 || o.occupants > 200)
    return std::cerr << "salon_load: bad --rooms/--occupants\n", false;
  if (o.iq_queries == 0) o.iq_queries = 1;
  return true;
}

bool pin_self(const std::string& list) {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::size_t pos = 0;
  while (pos < list.size()) {
    const auto comma = list.find(',', pos);
    const std::string item =
        list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    const auto dash = item.find('-');
    const int lo = std::stoi(item.substr(0, dash));
    const int hi = dash == std::string::npos ? lo : std::stoi(item.substr(dash + 1));
    for (int c = lo; c <= hi; ++c)
      CPU_SET(c, &set);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return sched_setaffinity(0, sizeof set, &set) == 0;
}

}  // namespace
}  // namespace salon::bench

int main(int argc, char** argv) {
  using namespace salon::bench;
  Options opts;
  if (!parse_args(argc, argv, opts)) return 2;
  if (!opts.bench_cpus.empty() && !pin_self(opts.bench_cpus)) {
    std::cerr << "salon_load: cannot pin to CPUs " << opts.bench_cpus << "\n";
    return 2;
  }
  Report rep(opts, argc, argv);
  rep.header();

  bool made_workdir = false;
  if (opts.workdir.empty()) {
    char tmpl[] = "/tmp/salon_load.XXXXXX";
    if (!mkdtemp(tmpl)) return std::cerr << "salon_load: mkdtemp failed\n", 2;
    opts.workdir = tmpl;
    made_workdir = true;
  }
  fs::create_directories(opts.workdir);

  boost::asio::io_context io(1);
  const std::string secret = random_hex(16), token = random_hex(16);
  ComponentServer server(io, opts.domain, secret);
  server.start();
  SalondConfig cfg{opts.domain,     server.port(),   secret,
                   opts.pg,         free_port(),     token,
                   opts.log_level,  opts.archive,    opts.email_offline > 0,
                   opts.email_smtp, opts.email_delay};
  const fs::path cfg_path = fs::path(opts.workdir) / "salond.toml";
  write_config(cfg_path, cfg);
  rep.line("work dir {}; salond {} (component port {}, http {})", opts.workdir, opts.salond,
           cfg.component_port, cfg.http_port);

  Bench bench(io, opts, World::make(opts, random_hex(3)), server);
  int code = 1;
  {
    SalondProcess salond(opts.salond, cfg_path, opts.workdir, opts.salond_cpus);
    bench.salond = &salond;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          code = co_await run(bench, cfg.http_port, token, rep);
          // Shut salond down while its link is still open, as a server would see it: it
          // flushes its state and closes the stream itself.
          ::kill(salond.pid(), SIGTERM);
          co_await bench.wait_until([&] { return server.closed(); }, 20.0);
          server.close();
        },
        [&](std::exception_ptr e) {
          if (!e) return;
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            rep.fail(std::string("exception: ") + ex.what());
          }
          server.close();
        });
    io.run();
    const int status = salond.stop(20.0);
    rep.line("salond exit status {} (0 = clean shutdown)", status);
    if (status != 0 || code != 0) {
      rep.line("salond stderr (tail):\n{}", salond.stderr_tail());
      if (status != 0) code = 1;
    }
  }
  if (opts.keep || code != 0)
    rep.line("kept {} (config, salond.stderr)", opts.workdir);
  else if (made_workdir)
    fs::remove_all(opts.workdir);
  return code;
}
