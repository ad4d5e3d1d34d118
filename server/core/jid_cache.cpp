// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/jid_cache.hpp"

namespace salon {

namespace {
std::atomic<std::size_t> g_budget{std::size_t{8} * 1024 * 1024};
// Per entry besides the strings: the hash node, the bucket and the optional<Jid>'s three
// std::string headers (measured with glibc malloc: ~160 bytes for a short JID).
constexpr std::size_t kEntryOverhead = 160;
}  // namespace

void set_jid_cache_budget(std::size_t bytes) {
  g_budget.store(bytes, std::memory_order_relaxed);
}
std::size_t jid_cache_budget() {
  return g_budget.load(std::memory_order_relaxed);
}

std::size_t JidCache::cost(std::string_view key, const std::optional<Jid>& value) {
  std::size_t n = kEntryOverhead + key.size();
  if (value) n += value->local().size() + value->domain().size() + value->resource().size();
  return n;
}

void JidCache::set_budget(std::size_t bytes) {
  budget_ = bytes;
  if (bytes_ > budget_) {
    map_.clear();
    bytes_ = 0;
  }
}

std::optional<Jid> JidCache::get(std::string_view s, Parse parse) {
  if (s.size() > kMaxJidBytes) return std::nullopt;  // no valid JID is this long
  if (auto it = map_.find(s); it != map_.end()) return it->second;
  auto parsed = parse(s);
  const std::size_t c = cost(s, parsed);
  if (c > budget_) return parsed;
  // Emptied rather than evicted one by one: the working set (a few thousand JIDs) refills it
  // in well under a second, and no order has to be kept per lookup.
  if (bytes_ + c > budget_) {
    map_.clear();
    bytes_ = 0;
  }
  map_.emplace(std::string(s), parsed);
  bytes_ += c;
  return parsed;
}

}  // namespace salon
