// SPDX-License-Identifier: GPL-3.0-or-later
// The sender's claim (sender thread, one transaction): due pending rows are locked with
// SELECT ... FOR UPDATE SKIP LOCKED, checked once more against what changed since they were
// queued (membership, address, preferences, bounces, throttle, what the member has read),
// and each member's remaining rooms become one digest: rendered, stored whole in
// email_outbox ('claimed') and the rows marked as claimed by it, in the same COMMIT.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <pqxx/types>

#include "render.hpp"
#include "settings.hpp"

namespace salon::email {

// A pending row that is gone: the loop hears of it (EmailPlugin::handled) so that it queues a
// new row if the member missed a message newer than `through_us` meanwhile.
struct Handled {
  std::int64_t room_id = 0;
  std::string jid;
  std::int64_t through_us = 0;
};

struct ClaimResult {
  std::size_t members = 0;                       // members looked at
  std::vector<std::int64_t> outbox;              // digests claimed, ready to send
  std::map<std::string, std::size_t> cancelled;  // rows dropped, by reason
  std::size_t throttled = 0;                     // rows put off by the throttle
  std::vector<Handled> handled;                  // rows deleted (the loop must hear)
};

struct ClaimContext {
  const Settings& settings;
  const Templates& templates;
  std::string domain;  // the component domain, for Message-IDs
  // This sender's share of the members: shard_of(jid) == shard (of `shards`).
  std::int64_t shard = 0;
  std::int64_t shards = 1;
};

// SQL for "the member belongs to sender $k of $n" (PostgreSQL's hashtext, stable across
// restarts), with $k and $n at the given parameter numbers.
std::string shard_filter(std::string_view jid_column, int k_param, int n_param);

ClaimResult claim_due(pqxx::connection_base& conn, const ClaimContext& ctx);

// The SQL for one room's news for a member: what came in since `since_us` and after what
// they have read, not written by them; the oldest `limit` and the total.
struct RoomNews {
  std::vector<DigestMessage> messages;
  std::size_t total = 0;
  std::int64_t through_us = 0;  // the room's newest archived message (any sender)
};
RoomNews room_news(pqxx::dbtransaction& tx, std::int64_t room_id, const std::string& jid,
                   std::int64_t since_us, std::optional<std::int64_t> read_us, std::size_t limit);

}  // namespace salon::email
