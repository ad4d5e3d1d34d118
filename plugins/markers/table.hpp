// SPDX-License-Identifier: GPL-3.0-or-later
// read_state through the journal: positions are upserted and only ever move forward, so a
// replayed spool or two flushes in one batch cannot move one back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "journal/table.hpp"

namespace salon::markers {

struct Position {
  std::int64_t room_id = 0;
  std::string jid;  // bare
  std::string stanza_id;
  std::int64_t at_us = 0;
};

std::string encode_position(const Position& p);
std::optional<Position> decode_position(std::string_view bytes);

class ReadStateTable final : public journal::TableOf<Position> {
public:
  ReadStateTable() : TableOf("read_state") {}
  std::int64_t insert_rows(pqxx::dbtransaction& tx, Rows rows, journal::Source source) override;
  [[nodiscard]] std::string encode_row(const Position& p) const override {
    return encode_position(p);
  }
  [[nodiscard]] std::optional<Position> decode_row(std::string_view bytes) const override {
    return decode_position(bytes);
  }
};

}  // namespace salon::markers
