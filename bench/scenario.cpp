// SPDX-License-Identifier: GPL-3.0-or-later
#include "scenario.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>

namespace salon::bench {

namespace asio = boost::asio;

World World::make(const Options& o, std::string run_id) {
  static constexpr const char* kRoles[] = {"client", "designer", "staff"};
  World w;
  w.run_id = std::move(run_id);
  w.rooms.reserve(o.rooms);
  w.occ.reserve(o.rooms * o.occupants);
  for (std::size_t r = 0; r < o.rooms; ++r) {
    RoomInfo room;
    room.id = fmt::format("bench-{}-{}", w.run_id, r);
    room.jid = room.id + "@" + o.domain;
    w.rooms.push_back(std::move(room));
    for (std::size_t k = 0; k < o.occupants; ++k) {
      OccupantInfo oc;
      oc.room = r;
      oc.bare = fmt::format("b{}r{}u{}@{}", w.run_id, r, k, o.user_domain);
      oc.jid = oc.bare + "/r";
      oc.nick = fmt::format("u{}", k);
      oc.role = kRoles[k % 3];
      w.by_jid.emplace(oc.jid, w.occ.size());
      w.occ.push_back(std::move(oc));
    }
  }
  return w;
}

std::string World::occupant_jid_in_room(std::size_t i) const {
  return rooms[occ[i].room].jid + "/" + occ[i].nick;
}

Bench::Bench(asio::io_context& io_, Options opts_, World world_, ComponentServer& server)
    : io(io_), opts(std::move(opts_)), world(std::move(world_)), link(server), wake_(io_) {
  link.on_stanza = [this](const Stanza& s) { dispatch(s); };
  link.on_state = [this] { notify(); };
}

void Bench::dispatch(const Stanza& s) {
  if (s.attr("type") == "error") {
    ++errors[phase];
    if (error_samples.size() < 5)
      error_samples.push_back(fmt::format("[{}] {}", phase, s.raw.substr(0, 600)));
  }
  if (handler)
    handler(s);
  else
    ++unexpected;
}

std::uint64_t Bench::total_errors() const {
  std::uint64_t n = 0;
  for (const auto& [p, c] : errors)
    n += c;
  return n;
}

void Bench::notify() {
  wake_.cancel();
}

bool Bench::broken() const {
  return link.closed() || (salond && const_cast<SalondProcess*>(salond)->exited().has_value());
}

asio::awaitable<bool> Bench::wait_until(std::function<bool()> pred, double timeout_s) {
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(timeout_s));
  boost::system::error_code ec;
  for (;;) {
    if (pred()) co_return true;
    if (broken() || Clock::now() >= deadline) co_return false;
    // Wake at the deadline, on notify(), and every 100 ms to notice a dead salond.
    wake_.expires_at(std::min(deadline, Clock::now() + std::chrono::milliseconds(100)));
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> Bench::sleep(double s) {
  asio::steady_timer t(
      io, std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)));
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

Windowed::Windowed(Bench& b, std::size_t n, std::size_t window,
                   std::function<std::string(std::size_t)> make)
    : b_(b),
      n_(n),
      window_(std::max<std::size_t>(window, 1)),
      make_(std::move(make)),
      start_(n),
      done_(n, false) {}

void Windowed::start() {
  fill();
}

bool Windowed::complete(std::size_t i) {
  if (i >= sent_ || done_[i]) return false;
  done_[i] = true;
  ++completed_;
  --inflight_;
  fill();
  if (finished()) b_.notify();
  return true;
}

void Windowed::fill() {
  while (inflight_ < window_ && sent_ < n_) {
    const std::size_t i = sent_++;
    ++inflight_;
    start_[i] = Clock::now();
    b_.link.send(make_(i));
  }
}

std::optional<std::size_t> parse_seq(std::string_view id, char prefix) {
  if (id.size() < 2 || id[0] != prefix) return std::nullopt;
  std::size_t v = 0;
  const auto [p, ec] = std::from_chars(id.data() + 1, id.data() + id.size(), v);
  if (ec != std::errc() || p != id.data() + id.size()) return std::nullopt;
  return v;
}

}  // namespace salon::bench
