// SPDX-License-Identifier: GPL-3.0-or-later
// The archive's SQL. Everything here runs on database worker threads (never on the loop):
// insert_rows in the journal's group-commit transaction, the readers' queries on a reader
// connection. Results are plain values the loop turns into stanzas.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <pqxx/types>

#include "classify.hpp"
#include "core/element.hpp"
#include "journal/table.hpp"
#include "query.hpp"
#include "unreadable.hpp"

namespace salon::archive {

// One archived stanza, as queued by the write path.
struct Row {
  std::int64_t room_id = 0;
  std::string stanza_id;
  std::int64_t ts_us = 0;
  Kind kind = Kind::message;
  std::string nick, sender_jid, occupant_id, msg_id;
  bool has_body = false;
  std::string body;
  std::string stanza;  // XML as reflected, without 'to'
  std::string replaces;
};

// Where a batch comes from: live rows were never stored; replayed spool rows may have been.
using journal::Source;

// A batch's rows as the journal hands them over (they stay in its messages).
using RowRefs = std::span<const Row* const>;
inline std::vector<const Row*> refs(const std::vector<Row>& rows) {
  std::vector<const Row*> out;
  out.reserve(rows.size());
  for (const Row& r : rows)
    out.push_back(&r);
  return out;
}

// Inserts `rows` in order — live ones by COPY, replayed ones with ON CONFLICT (stanza_id) DO
// NOTHING — then links corrections and tombstones retracted messages. Rows of rooms that no
// longer exist are dropped. Returns the archive id sequence's last value: every row the batch
// inserted has an id above the previous batch's value and at most this one (only the writer
// inserts, one batch after the other).
std::int64_t insert_rows(pqxx::dbtransaction& tx, RowRefs rows, Source source);
inline std::int64_t insert_rows(pqxx::dbtransaction& tx, const std::vector<Row>& rows,
                                Source source) {
  return insert_rows(tx, refs(rows), source);
}

// Deletes up to `limit` of a room's oldest rows — only those older than `days` when it is not
// 0 — and keeps archive_counts right, in the caller's transaction (READ COMMITTED: the
// statements after its lock must see a fold committed meanwhile). It first folds the room's
// rows into its count and then deletes only rows at or below the new watermark: rows
// committed after that are newer than the purge and stay. Returns how many it deleted.
std::int64_t delete_batch(pqxx::transaction_base& tx, std::int64_t room_id, std::int64_t days,
                          std::int64_t limit);

// Folds the rooms' rows above their watermark into archive_counts (schemas/005) by counting
// them in the table, in a transaction of its own. delete_batch folds its room with the same
// statement; the writer's own tallies (below) fold without reading the rows.
void fold_counts(pqxx::connection_base& conn, const std::vector<std::int64_t>& room_ids);

// What the writer committed for one room since the room's last fold. With after >= 0 it
// claims: every row of the room with after < id <= upto was committed by this writer and is
// one of `rows`. after < 0 claims nothing but upto (replayed spool rows, which may have been
// stored already; rows of the first batch after a start or a failed batch).
struct Tally {
  std::int64_t rows = 0;
  std::int64_t after = -1;
  std::int64_t upto = 0;
};
using Tallies = std::unordered_map<std::int64_t, Tally>;  // by room id

// Folds tallies into archive_counts in a transaction of its own. A claim that still holds
// (the room's watermark <= after) adds `rows` plus the room's rows between the watermark and
// `after` — an index probe that finds none unless an earlier process left rows unfolded; a
// claim overtaken by a purge, or no claim, counts the rows up to `upto` in the table.
// Either way the watermark becomes upto. Rooms deleted meanwhile are skipped.
void fold_tallies(pqxx::connection_base& conn, const Tallies& tallies);

// A stored message ready to be forwarded (MAM) or replayed (history).
struct Item {
  std::int64_t id = 0;
  std::string stanza_id;
  std::int64_t ts_us = 0;
  Element message;  // the original, or its tombstone once retracted
};

struct Page {
  std::vector<Item> items;  // in archive order (oldest first)
  bool complete = false;
  std::int64_t count = 0;
  std::int64_t first_index = 0;
  std::optional<std::string> missing_id;  // a referenced stanza-id not in this room
};

// Runs a parsed MAM query. `room_jid` is used for tombstones' from. A row whose stanza does
// not parse is served as a placeholder (unreadable.hpp) and reported to `unreadable`.
Page run_query(pqxx::connection_base& conn, const MamQuery& q, std::int64_t room_id,
               const std::string& room_jid, std::size_t limit, Unreadable* unreadable = nullptr);

struct Metadata {
  std::optional<Item> first, last;  // messages only carry id + ts
};
Metadata read_metadata(pqxx::connection_base& conn, std::int64_t room_id);

struct HistoryLimits {
  std::size_t max_stanzas = 20;
  std::optional<std::size_t> max_chars;
  std::optional<std::int64_t> since_us;
};
// Newest messages within the limits, oldest first, each with <delay from=room stamp/>.
// Unparsable rows as in run_query.
std::vector<Element> read_history(pqxx::connection_base& conn, std::int64_t room_id,
                                  const std::string& room_jid, const HistoryLimits& limits,
                                  Unreadable* unreadable = nullptr);

}  // namespace salon::archive
