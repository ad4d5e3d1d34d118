// SPDX-License-Identifier: GPL-3.0-or-later
#include "tracker.hpp"

#include <algorithm>

namespace salon::email {

bool PendingTracker::missed(std::int64_t room, const std::string& jid, std::int64_t at_us) {
  Pair& p = pairs_[{room, jid}];
  p.last_missed_us = std::max(p.last_missed_us, at_us);
  if (p.stored || p.adding) return false;
  p.adding = true;
  return true;
}

void PendingTracker::stored(std::int64_t room, const std::string& jid) {
  const auto it = pairs_.find({room, jid});
  if (it == pairs_.end()) return;  // cancelled meanwhile: the cancel follows it in the journal
  it->second.adding = false;
  it->second.stored = true;
}

void PendingTracker::unsure() {
  for (auto& [key, p] : pairs_)
    p.adding = false;
}

bool PendingTracker::cancel(std::int64_t room, const std::string& jid) {
  const auto it = pairs_.find({room, jid});
  if (it == pairs_.end()) return !loaded_;
  const bool row = it->second.stored || it->second.adding;
  pairs_.erase(it);
  return row || !loaded_;
}

bool PendingTracker::read(std::int64_t room, const std::string& jid, std::int64_t at_us) {
  const auto it = pairs_.find({room, jid});
  if (it != pairs_.end() && at_us < it->second.last_missed_us) return false;
  return cancel(room, jid);
}

bool PendingTracker::handled(std::int64_t room, const std::string& jid, std::int64_t through_us) {
  const auto it = pairs_.find({room, jid});
  if (it == pairs_.end()) return false;
  Pair& p = it->second;
  if (p.last_missed_us <= through_us) {
    pairs_.erase(it);
    return false;
  }
  p.stored = false;
  p.adding = true;
  return true;
}

void PendingTracker::load(const std::vector<Key>& rows, std::int64_t started_us) {
  for (const auto& key : rows) {
    Pair& p = pairs_[key];
    p.stored = true;
    p.last_missed_us = std::max(p.last_missed_us, started_us);
  }
  loaded_ = true;
}

void PendingTracker::forget(const std::string& jid, std::int64_t room) {
  for (auto it = pairs_.begin(); it != pairs_.end();) {
    if (it->first.second == jid && (room == 0 || it->first.first == room))
      it = pairs_.erase(it);
    else
      ++it;
  }
}

void PendingTracker::forget_room(std::int64_t room) {
  auto it = pairs_.lower_bound({room, std::string()});
  while (it != pairs_.end() && it->first.first == room)
    it = pairs_.erase(it);
}

}  // namespace salon::email
