// SPDX-License-Identifier: GPL-3.0-or-later
// A table that plugins write through the journal (journal.hpp), and the rows they add to a
// message's commit. A plugin registers its table once (Host::add_table) and then adds rows in
// Plugin::on_message_commit; the journal stores every message's rows of every table in one
// transaction, spools them when PostgreSQL is away and replays them later.
//
// A table is typed by its row (TableOf<R>); the journal sees only Record and Table, so the core
// knows no plugin's row type.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pqxx/types>  // forward declarations only: dbtransaction

namespace salon::journal {

// Where a batch comes from: live rows were never stored; replayed spool rows may have been
// (a crash after the COMMIT and before the spool was cut), so their INSERT must be idempotent.
enum class Source { live, replayed };

class Table;

// One row of one table.
struct Record {
  explicit Record(Table& t) : table(&t) {}
  virtual ~Record() = default;
  Record(const Record&) = delete;
  Record& operator=(const Record&) = delete;
  Table* table;
};
using Records = std::span<const Record* const>;

class Table {
public:
  explicit Table(std::string name) : name_(std::move(name)) {}
  virtual ~Table() = default;
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  // Names the table's rows in the spool: stable across releases, unique among tables.
  [[nodiscard]] const std::string& name() const { return name_; }

  // Database writer thread, inside the batch's transaction: this table's rows of the batch, in
  // message order. Returns a mark the table gets back with committed() (e.g. a sequence's
  // last value; 0 when it needs none). Throwing fails the batch, which is then retried one
  // message at a time.
  virtual std::int64_t insert(pqxx::dbtransaction& tx, Records rows, Source source) = 0;
  // Any thread, pure: a row as the spool keeps it, and back (nullptr: not a row of this table).
  [[nodiscard]] virtual std::string encode(const Record& row) const = 0;
  [[nodiscard]] virtual std::unique_ptr<Record> decode(std::string_view bytes) = 0;
  // Loop thread: rows that are now committed, with the mark their insert() returned.
  virtual void committed(Records /*rows*/, Source /*source*/, std::int64_t /*mark*/) {}
  // Loop thread: a batch with rows of this table ended without a known outcome (failed, in
  // doubt, spooled): what insert() saw may or may not be stored.
  virtual void unsure() {}

private:
  std::string name_;
};

template <typename R>
struct RecordOf final : Record {
  RecordOf(Table& t, R v) : Record(t), value(std::move(v)) {}
  R value;
};

// A table of rows of type R: implement the typed hooks, the journal calls the untyped ones.
template <typename R>
class TableOf : public Table {
public:
  using Table::Table;
  using Rows = std::span<const R* const>;

  virtual std::int64_t insert_rows(pqxx::dbtransaction& tx, Rows rows, Source source) = 0;
  [[nodiscard]] virtual std::string encode_row(const R& row) const = 0;
  [[nodiscard]] virtual std::optional<R> decode_row(std::string_view bytes) const = 0;
  virtual void committed_rows(Rows /*rows*/, Source /*source*/, std::int64_t /*mark*/) {}

  [[nodiscard]] std::unique_ptr<Record> make(R row) {
    return std::make_unique<RecordOf<R>>(*this, std::move(row));
  }

  std::int64_t insert(pqxx::dbtransaction& tx, Records rows, Source source) final {
    const auto v = values(rows);
    return insert_rows(tx, v, source);
  }
  [[nodiscard]] std::string encode(const Record& row) const final {
    return encode_row(static_cast<const RecordOf<R>&>(row).value);
  }
  [[nodiscard]] std::unique_ptr<Record> decode(std::string_view bytes) final {
    auto r = decode_row(bytes);
    return r ? make(std::move(*r)) : nullptr;
  }
  void committed(Records rows, Source source, std::int64_t mark) final {
    const auto v = values(rows);
    committed_rows(v, source, mark);
  }

private:
  static std::vector<const R*> values(Records rows) {
    std::vector<const R*> out;
    out.reserve(rows.size());
    for (const Record* r : rows)
      out.push_back(&static_cast<const RecordOf<R>*>(r)->value);
    return out;
  }
};

// The rows a message brings, of any number of tables: all of them are stored, or none.
class Commit {
public:
  template <typename R>
  void add(TableOf<R>& table, R row) {
    rows_.push_back(table.make(std::move(row)));
  }
  [[nodiscard]] bool empty() const { return rows_.empty(); }
  [[nodiscard]] std::size_t size() const { return rows_.size(); }
  [[nodiscard]] std::vector<std::unique_ptr<Record>> take() && { return std::move(rows_); }

private:
  std::vector<std::unique_ptr<Record>> rows_;
};

}  // namespace salon::journal
