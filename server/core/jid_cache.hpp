// SPDX-License-Identifier: GPL-3.0-or-later
// The cache behind Jid::parse: parsed (or refused) strings, bounded by the bytes they hold,
// not by their count. Every JID attribute a stanza carries is parsed, so a peer controls what
// enters: 65,536 cached 200 KB 'to' attributes were ~13 GB. A string longer than any valid JID
// (RFC 7622: three parts of at most 1023 octets) is refused without parsing or caching.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/jid.hpp"

namespace salon {

// Longest string that can be a JID: local@domain/resource, each part at most 1023 octets.
inline constexpr std::size_t kMaxJidBytes = 3 * 1023 + 2;

class JidCache {
public:
  using Parse = std::optional<Jid> (*)(std::string_view);
  explicit JidCache(std::size_t budget_bytes) : budget_(budget_bytes) {}

  // The cached answer for `s`, or `parse(s)` (cached when it fits the budget).
  std::optional<Jid> get(std::string_view s, Parse parse);
  void set_budget(std::size_t bytes);

  [[nodiscard]] std::size_t budget() const { return budget_; }
  [[nodiscard]] std::size_t bytes() const { return bytes_; }
  [[nodiscard]] std::size_t size() const { return map_.size(); }

  // What one entry costs: its key, the parsed parts and the node (an estimate of the
  // allocator's share; exact enough to bound memory, not to account for it).
  static std::size_t cost(std::string_view key, const std::optional<Jid>& value);

private:
  // Looks up a string_view without building a std::string (an allocation per lookup: JIDs are
  // parsed several times per stanza, the cache answers nearly all of them).
  struct ViewHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::optional<Jid>, ViewHash, std::equal_to<>> map_;
  std::size_t bytes_ = 0;
  std::size_t budget_;
};

// The budget every thread's Jid::parse cache keeps to ([muc] jid_cache_bytes); a thread picks
// up a change at its next lookup.
void set_jid_cache_budget(std::size_t bytes);
std::size_t jid_cache_budget();

}  // namespace salon
