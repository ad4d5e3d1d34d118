// SPDX-License-Identifier: GPL-3.0-or-later
// A PostgreSQL array literal for one bound parameter ("$2::text[]"), so a whole set of rows goes
// to the server in one statement (INSERT ... SELECT FROM unnest(...)) instead of one round trip
// per row. libpqxx 6.4 can parse arrays but not write them. Every element is quoted, so only
// '"' and '\' need escaping; NULL is the unquoted word. The value is a parameter, never SQL text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace salon::db {

class ArrayText {
public:
  void add(std::string_view v) {
    sep();
    out_ += '"';
    for (char c : v) {
      if (c == '"' || c == '\\') out_ += '\\';
      out_ += c;
    }
    out_ += '"';
  }
  void add(std::int64_t v) {
    sep();
    out_ += std::to_string(v);
  }
  void add_null() {
    sep();
    out_ += "NULL";
  }
  [[nodiscard]] std::string done() const { return out_ + "}"; }

private:
  void sep() {
    if (out_.size() > 1) out_ += ',';
  }
  std::string out_ = "{";
};

}  // namespace salon::db
