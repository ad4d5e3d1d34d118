// SPDX-License-Identifier: GPL-3.0-or-later
// email_pending through the journal: the loop's changes to who has a notification pending in
// which room, stored in the same transaction as the message that caused them (or spooled with
// it, and replayed in order).
//   missed: a member missed a message (no joined resource when it was broadcast): a pending
//           row, unless one is there already; due after their delay (and the room's throttle).
//           The SQL drops members without an email address, with email off, or who muted the
//           room, and rooms deleted meanwhile.
//   cancel: the member joined, wrote, or read (a marker): the pending row goes; one that a
//           digest being sent has claimed is flagged, and the sender drops it before sending.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "journal/table.hpp"

namespace salon::email {

struct PendingOp {
  enum class Kind : std::uint8_t { missed, cancel };
  Kind kind = Kind::missed;
  std::int64_t room_id = 0;
  std::string jid;         // the member's bare JID
  std::string stanza_id;   // missed: the message (may be empty: "what came after at_us")
  std::int64_t at_us = 0;  // missed: when the room received it; messages from then on are due
};

std::string encode_op(const PendingOp& op);
std::optional<PendingOp> decode_op(std::string_view bytes);

class PendingTable final : public journal::TableOf<PendingOp> {
public:
  // `default_delay`: [plugins.email] delay_seconds (a member's own delay wins). Callbacks on
  // the loop thread: `committed` with the rows now stored and how many missed rows became
  // pending rows, `unsure` when a batch's outcome is unknown.
  PendingTable(std::chrono::seconds default_delay,
               std::function<void(Rows, std::int64_t enqueued)> committed,
               std::function<void()> unsure);
  void set_delay(std::chrono::seconds d) { delay_s_.store(d.count()); }

  std::int64_t insert_rows(pqxx::dbtransaction& tx, Rows rows, journal::Source source) override;
  [[nodiscard]] std::string encode_row(const PendingOp& op) const override { return encode_op(op); }
  [[nodiscard]] std::optional<PendingOp> decode_row(std::string_view bytes) const override {
    return decode_op(bytes);
  }
  void committed_rows(Rows rows, journal::Source, std::int64_t enqueued) override {
    if (committed_) committed_(rows, enqueued);
  }
  void unsure() override {
    if (unsure_) unsure_();
  }

private:
  std::atomic<std::int64_t> delay_s_;  // read on the writer thread, set on the loop (reload)
  std::function<void(Rows, std::int64_t)> committed_;
  std::function<void()> unsure_;
};

}  // namespace salon::email
