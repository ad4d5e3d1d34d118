// SPDX-License-Identifier: GPL-3.0-or-later
// A PostgreSQL text[] literal for one bound parameter ("$2::text[]"), so a whole set of rows
// goes to the server in one statement (INSERT ... SELECT FROM unnest(...)) instead of one round
// trip per row. libpqxx 6.4 can parse arrays but not write them. Every element is quoted, so
// only '"' and '\' need escaping; the value is a parameter, never part of the SQL text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace salon::store {

inline void append_array_element(std::string& out, std::string_view element) {
  out += '"';
  for (char c : element) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

// `get(item)` yields the element (a string) for each item of `items`.
template <typename Items, typename Get>
std::string text_array(const Items& items, Get get) {
  std::string out = "{";
  bool first = true;
  for (const auto& item : items) {
    if (!first) out += ',';
    first = false;
    append_array_element(out, get(item));
  }
  out += '}';
  return out;
}

inline std::string text_array(const std::vector<std::string>& items) {
  return text_array(items, [](const std::string& s) -> std::string_view { return s; });
}

}  // namespace salon::store
