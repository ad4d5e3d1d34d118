// SPDX-License-Identifier: GPL-3.0-or-later
// The archive's table in the journal (server/journal/): how archived rows are inserted (COPY,
// or ON CONFLICT DO NOTHING on replay), kept in the spool, and counted once committed.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "fold.hpp"
#include "journal/table.hpp"
#include "row_codec.hpp"
#include "store.hpp"

namespace salon {
class Counter;
class Metrics;
}  // namespace salon

namespace salon::archive {

class ArchiveTable final : public journal::TableOf<Row> {
public:
  ArchiveTable(boost::asio::io_context& loop, db::Database& db, Metrics& metrics);

  // Database writer thread. Returns the archive id sequence's last value (see insert_rows).
  std::int64_t insert_rows(pqxx::dbtransaction& tx, Rows rows, journal::Source source) override;
  [[nodiscard]] std::string encode_row(const Row& row) const override {
    return archive::encode_row(row);
  }
  [[nodiscard]] std::optional<Row> decode_row(std::string_view bytes) const override {
    return archive::decode_row(bytes);
  }
  void committed_rows(Rows rows, journal::Source source, std::int64_t last_id) override;
  void unsure() override;

private:
  CountFolder folder_;
  Counter& archived_;
  // The archive id sequence after the last batch known to be committed; -1 when unknown (at
  // start, or after a batch whose outcome is not known): see CountFolder.
  std::int64_t last_id_ = -1;
};

}  // namespace salon::archive
