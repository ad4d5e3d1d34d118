// SPDX-License-Identifier: GPL-3.0-or-later
// Netstrings ("<length>:<bytes>,"), the spool's field encoding: the journal frames a message's
// parts with them and tables may encode their rows' fields the same way.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace salon::journal {

inline void put_netstring(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
  out += ',';
}

// Reads one netstring at `pos` and moves past it; false when the data is short or malformed.
// The length is compared, never added to (a length near SIZE_MAX must not wrap the check).
inline bool get_netstring(std::string_view data, std::size_t& pos, std::string& out) {
  const auto colon = data.find(':', pos);
  if (colon == std::string_view::npos) return false;
  std::size_t n = 0;
  const auto [p, ec] = std::from_chars(data.data() + pos, data.data() + colon, n);
  if (ec != std::errc() || p != data.data() + colon) return false;
  if (n > data.size() || colon + 1 + n + 1 > data.size() || data[colon + 1 + n] != ',')
    return false;
  out.assign(data.substr(colon + 1, n));
  pos = colon + 1 + n + 1;
  return true;
}

// A whole decimal integer field (no sign other than '-', no spaces, nothing after it).
inline bool parse_int64(std::string_view s, std::int64_t& out) {
  if (s.empty()) return false;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace salon::journal
