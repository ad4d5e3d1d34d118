// SPDX-License-Identifier: GPL-3.0-or-later
// What the event loop knows of email_pending, so that a busy room adds one pending row per
// absent member instead of one per message, and cancels only rows that may exist. Pure (no
// I/O): EmailPlugin turns its answers into journal rows. Loop thread only.
//
// Per (room, member): the newest message they missed, and whether a row is stored or on its
// way. Until load() has run (the rows a previous process left), the tracker cannot know what
// is stored: it then says "cancel" whenever asked, which the SQL makes harmless.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace salon::email {

class PendingTracker {
public:
  using Key = std::pair<std::int64_t, std::string>;  // room id, bare JID

  // The member missed a message received at `at_us`. True: add a pending row for it.
  bool missed(std::int64_t room, const std::string& jid, std::int64_t at_us);
  // The rows added for these pairs are committed.
  void stored(std::int64_t room, const std::string& jid);
  // A batch ended without a known outcome: rows on their way may not be there.
  void unsure();
  // The member joined or wrote, or was removed. True: submit a cancel (a row may exist).
  bool cancel(std::int64_t room, const std::string& jid);
  // The member read up to `at_us` (a marker). True: submit a cancel: they have read everything
  // they missed here. Reading less leaves the row: the digest shows only what is unread.
  bool read(std::int64_t room, const std::string& jid, std::int64_t at_us);
  // The sender removed the row after a digest that covered messages through `through_us`.
  // True: the member missed newer messages meanwhile, so add a row again (since through_us + 1).
  bool handled(std::int64_t room, const std::string& jid, std::int64_t through_us);
  // The rows stored at start; whatever they stand for was missed before `started_us`.
  void load(const std::vector<Key>& rows, std::int64_t started_us);
  // Forget a member (their preferences or address changed): the next miss is judged afresh.
  // `room` 0: in every room.
  void forget(const std::string& jid, std::int64_t room = 0);
  void forget_room(std::int64_t room);

  [[nodiscard]] bool loaded() const { return loaded_; }
  [[nodiscard]] std::size_t size() const { return pairs_.size(); }

private:
  struct Pair {
    std::int64_t last_missed_us = 0;
    bool stored = false;
    bool adding = false;
  };
  std::map<Key, Pair> pairs_;
  bool loaded_ = false;
};

}  // namespace salon::email
