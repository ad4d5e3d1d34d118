// SPDX-License-Identifier: GPL-3.0-or-later
#include "table.hpp"

#include "core/metrics.hpp"

namespace salon::archive {

ArchiveTable::ArchiveTable(boost::asio::io_context& loop, db::Database& db, Metrics& m)
    : TableOf("archive"),
      folder_(loop, db,
              m.counter("salon_archive_fold_failures_total",
                        "Folds of message counts into archive_counts that failed (retried)")),
      archived_(m.counter("salon_archive_messages_total", "Messages committed to the archive")) {}

std::int64_t ArchiveTable::insert_rows(pqxx::dbtransaction& tx, Rows rows, journal::Source source) {
  return archive::insert_rows(tx, rows, source);
}

// Replayed rows may have been stored before (ON CONFLICT DO NOTHING skipped them): the folder
// gets no claim about how many of them the range holds.
void ArchiveTable::committed_rows(Rows rows, journal::Source source, std::int64_t last_id) {
  archived_.inc(rows.size());
  folder_.committed(rows, source == journal::Source::live ? last_id_ : -1, last_id);
  last_id_ = last_id;
}

void ArchiveTable::unsure() {
  last_id_ = -1;
  folder_.failed();
}

}  // namespace salon::archive
