// SPDX-License-Identifier: GPL-3.0-or-later
#include "fold.hpp"

#include <algorithm>
#include <chrono>

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "db/database.hpp"

namespace salon::archive {
namespace {
constexpr auto kInterval = std::chrono::seconds(1);
}  // namespace

void tally(Tallies& into, RowRefs rows, std::int64_t after, std::int64_t upto) {
  for (const Row* r : rows) {
    auto [it, fresh] = into.try_emplace(r->room_id);
    Tally& t = it->second;
    // A new entry starts its claim at `after`; an existing one keeps its own, which ends at
    // an earlier batch's upto <= after: the room had no rows in between that went untallied.
    if (fresh || after < 0) t.after = after;
    ++t.rows;
    t.upto = upto;
  }
}

void merge(Tallies& into, const Tallies& older) {
  for (const auto& [room, old] : older) {
    auto [it, fresh] = into.try_emplace(room, old);
    if (fresh) continue;
    Tally& t = it->second;
    t.rows += old.rows;
    t.after = (t.after < 0 || old.after < 0) ? -1 : old.after;
    t.upto = std::max(t.upto, old.upto);
  }
}

void drop_claims(Tallies& tallies) {
  for (auto& [room, t] : tallies)
    t.after = -1;
}

CountFolder::CountFolder(boost::asio::io_context& loop, db::Database& db, Counter& failures)
    : db_(db), failures_(failures), timer_(loop) {}

CountFolder::~CountFolder() {
  timer_.cancel();
}

void CountFolder::committed(RowRefs rows, std::int64_t after, std::int64_t upto) {
  tally(tallies_, rows, after, upto);
  arm();
}

void CountFolder::failed() {
  drop_claims(tallies_);
}

void CountFolder::arm() {
  if (armed_ || folding_ || tallies_.empty()) return;
  armed_ = true;
  timer_.expires_after(kInterval);
  timer_.async_wait([this, life = std::weak_ptr<int>(alive_)](boost::system::error_code ec) {
    if (ec || life.expired()) return;
    armed_ = false;
    fold();
  });
}

void CountFolder::fold() {
  auto taken = std::make_shared<const Tallies>(std::exchange(tallies_, {}));
  folding_ = true;
  db_.query(
      [taken](pqxx::connection_base& c) {
        fold_tallies(c, *taken);
        return true;
      },
      [this, life = std::weak_ptr<int>(alive_), taken](db::Result<bool> r) {
        if (life.expired()) return;
        folding_ = false;
        if (!r) {  // counts stay exact meanwhile; only the scan above the watermark grows
          log::debug("archive", "folding message counts failed (retried): {}", r.error());
          failures_.inc(1);
          merge(tallies_, *taken);
        }
        arm();
      },
      db::QueryOptions{.idempotent = true});
}

}  // namespace salon::archive
