// SPDX-License-Identifier: GPL-3.0-or-later
// The phases around the message load: provisioning and deleting projects over HTTP, loading
// rooms (disco#info), joins, affiliation-list queries and leaving.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <utility>  // before Boost 1.74's awaitable.hpp, which uses std::exchange without it

#include <memory>

#include "http_client.hpp"
#include "scenario.hpp"

namespace salon::bench {

namespace asio = boost::asio;

namespace {

constexpr std::string_view kMucAdmin = "http://jabber.org/protocol/muc#admin";

bool self_presence(const Stanza& s) {
  return s.contains("code='110'") || s.contains("code=\"110\"");
}

double phase_timeout(std::size_t n) {
  return std::max(60.0, static_cast<double>(n) / 100.0);
}

std::string project_json(const Bench& b, std::size_t r) {
  std::string members;
  for (std::size_t k = 0; k < b.opts.occupants; ++k) {
    const auto& o = b.world.occ[r * b.opts.occupants + k];
    if (!members.empty()) members += ',';
    members += fmt::format(R"({{"jid":"{}","name":"{}","email":"{}@example.com","role":"{}"}})",
                           o.bare, o.nick, o.bare.substr(0, o.bare.find('@')), o.role);
  }
  for (std::size_t k = 0; k < b.opts.email_offline; ++k)
    members += fmt::format(
        R"(,{{"jid":"away{0}-{1}-{2}@localhost","name":"Away {1}","email":"away{0}-{1}-{2}@example.com","role":"designer"}})",
        r, k, b.world.run_id);
  return fmt::format(
      R"({{"name":"Bench room {}","description":"salon_load run {}","members":[{}]}})", r,
      b.world.run_id, members);
}

// Runs `per_room(client, r)` for every room over several keep-alive connections.
asio::awaitable<HttpPhase> each_room_http(
    Bench& b, std::uint16_t port, const std::string& token,
    std::function<asio::awaitable<HttpResponse>(HttpClient&, std::size_t)> per_room,
    std::function<bool(int)> ok_status) {
  auto result = std::make_shared<HttpPhase>();
  auto next = std::make_shared<std::size_t>(0);
  auto running = std::make_shared<std::size_t>(b.opts.http_connections);
  const auto t0 = Clock::now();
  for (std::size_t c = 0; c < b.opts.http_connections; ++c) {
    asio::co_spawn(
        b.io,
        [&b, port, token, per_room, ok_status, result, next, running]() -> asio::awaitable<void> {
          HttpClient client(b.io, "127.0.0.1", port, token);
          while (*next < b.opts.rooms && !b.broken()) {
            const std::size_t r = (*next)++;
            HttpResponse resp = co_await per_room(client, r);
            if (ok_status(resp.status)) {
              ++result->ok;
            } else {
              ++result->failed;
              if (result->first_failure.empty())
                result->first_failure = fmt::format("room {}: HTTP {} {}{}", r, resp.status,
                                                    resp.error, resp.body.substr(0, 300));
            }
          }
          --*running;
          b.notify();
        },
        asio::detached);
  }
  co_await b.wait_until([running] { return *running == 0; }, phase_timeout(b.opts.rooms));
  result->seconds = seconds_between(t0, Clock::now());
  co_return *result;
}

}  // namespace

asio::awaitable<HttpPhase> provision(Bench& b, std::uint16_t port, const std::string& token) {
  co_return co_await each_room_http(
      b, port, token,
      [&b](HttpClient& c, std::size_t r) {
        return c.request("PUT", "/api/v1/projects/" + b.world.rooms[r].id, project_json(b, r));
      },
      [](int status) { return status == 200 || status == 201; });
}

asio::awaitable<HttpPhase> delete_projects(Bench& b, std::uint16_t port, const std::string& token) {
  co_return co_await each_room_http(
      b, port, token,
      [&b](HttpClient& c, std::size_t r) {
        return c.request("DELETE", "/api/v1/projects/" + b.world.rooms[r].id);
      },
      [](int status) { return status == 204; });
}

// Runs a Windowed phase: `on` handles each stanza and returns the request it answers.
static asio::awaitable<RequestPhase> run_windowed(
    Bench& b, std::string phase, std::size_t n, std::size_t window,
    std::function<std::string(std::size_t)> make,
    std::function<void(const Stanza&, Windowed&, RequestPhase&)> on) {
  RequestPhase res;
  res.latency.reserve(n);
  Windowed w(b, n, window, std::move(make));
  b.phase = phase;
  b.handler = [&](const Stanza& s) { on(s, w, res); };
  const auto t0 = Clock::now();
  w.start();
  res.finished = co_await b.wait_until([&] { return w.finished(); }, phase_timeout(n));
  res.seconds = seconds_between(t0, Clock::now());
  res.completed = w.completed();
  b.handler = nullptr;
  co_return res;
}

asio::awaitable<RequestPhase> load_rooms(Bench& b) {
  const std::size_t occ = b.opts.occupants;
  co_return co_await run_windowed(
      b, "load-rooms", b.opts.rooms, b.opts.load_window,
      [&b, occ](std::size_t r) {
        return fmt::format(
            "<iq type='get' id='d{}' from='{}' to='{}'><query "
            "xmlns='http://jabber.org/protocol/disco#info'/></iq>",
            r, b.world.occ[r * occ].jid, b.world.rooms[r].jid);
      },
      [](const Stanza& s, Windowed& w, RequestPhase& res) {
        if (s.name != "iq") return;
        const auto r = parse_seq(s.attr("id"), 'd');
        if (!r || !w.pending(*r)) return;
        if (s.attr("type") == "error")
          ++res.errors;
        else
          res.latency.add(Clock::now() - w.started(*r));
        w.complete(*r);
      });
}

asio::awaitable<RequestPhase> join_all(Bench& b) {
  std::vector<bool> self_seen(b.world.occ.size(), false);
  co_return co_await run_windowed(
      b, "join", b.world.occ.size(), b.opts.join_window,
      [&b](std::size_t i) {
        return fmt::format(
            "<presence from='{}' to='{}'><x xmlns='http://jabber.org/protocol/muc'>"
            "<history maxstanzas='0'/></x></presence>",
            b.world.occ[i].jid, b.world.occupant_jid_in_room(i));
      },
      [&b, &self_seen](const Stanza& s, Windowed& w, RequestPhase& res) {
        const auto it = b.world.by_jid.find(std::string(s.attr("to")));
        if (it == b.world.by_jid.end() || !w.pending(it->second)) return;
        const std::size_t i = it->second;
        if (s.attr("type") == "error") {
          ++res.errors;
          w.complete(i);
        } else if (s.name == "presence" && !self_seen[i] && self_presence(s) &&
                   s.attr("from") == b.world.occupant_jid_in_room(i)) {
          self_seen[i] = true;
          res.latency.add(Clock::now() - w.started(i));
        } else if (s.name == "message" && s.contains("<subject")) {
          if (!self_seen[i]) ++res.errors;  // subject before the self-presence: wrong order
          res.latency2.add(Clock::now() - w.started(i));
          w.complete(i);
        }
      });
}

asio::awaitable<RequestPhase> affiliation_queries(Bench& b) {
  const std::size_t occ = b.opts.occupants;
  // The items a member list must hold: the occupants whose role maps to 'member'.
  std::size_t members = 0;
  for (std::size_t k = 0; k < occ; ++k)
    members += b.world.occ[k].role != "staff";
  members += b.opts.email_offline;  // designers who never join
  std::vector<std::size_t> room_of(b.opts.iq_queries);
  std::uint64_t x = 88172645463325252ull;  // xorshift: rooms in random order, reproducibly
  for (auto& r : room_of) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    r = static_cast<std::size_t>(x % b.opts.rooms);
  }
  co_return co_await run_windowed(
      b, "affiliations", b.opts.iq_queries, b.opts.iq_window,
      [&b, &room_of, occ](std::size_t q) {
        const std::size_t r = room_of[q];
        return fmt::format(
            "<iq type='get' id='a{}' from='{}' to='{}'><query xmlns='{}'><item "
            "affiliation='member'/></query></iq>",
            q, b.world.occ[r * occ].jid, b.world.rooms[r].jid, kMucAdmin);
      },
      [members](const Stanza& s, Windowed& w, RequestPhase& res) {
        if (s.name != "iq") return;
        const auto q = parse_seq(s.attr("id"), 'a');
        if (!q || !w.pending(*q)) return;
        const auto now = Clock::now();
        std::size_t items = 0;
        for (auto p = s.raw.find("<item"); p != std::string_view::npos;
             p = s.raw.find("<item", p + 5))
          ++items;
        if (s.attr("type") != "result" || items != members)
          ++res.errors;
        else
          res.latency.add(now - w.started(*q));
        w.complete(*q);
      });
}

asio::awaitable<RequestPhase> leave_all(Bench& b) {
  co_return co_await run_windowed(
      b, "leave", b.world.occ.size(), 64,
      [&b](std::size_t i) {
        return fmt::format("<presence type='unavailable' from='{}' to='{}'/>", b.world.occ[i].jid,
                           b.world.occupant_jid_in_room(i));
      },
      [&b](const Stanza& s, Windowed& w, RequestPhase& res) {
        if (s.name != "presence") return;
        const auto it = b.world.by_jid.find(std::string(s.attr("to")));
        if (it == b.world.by_jid.end() || !w.pending(it->second)) return;
        if (s.attr("type") == "error") {
          ++res.errors;
          w.complete(it->second);
        } else if (s.attr("type") == "unavailable" && self_presence(s)) {
          res.latency.add(Clock::now() - w.started(it->second));
          w.complete(it->second);
        }
      });
}

}  // namespace salon::bench
