// SPDX-License-Identifier: GPL-3.0-or-later
#include "retention_body.hpp"

#include <cstddef>

namespace salon::archive {

// {"days": N} or {"days": null}, whitespace allowed, nothing else. A hand-written scan: linear
// and without recursion (the std::regex it replaces overflowed the stack on a 100 KB body).
std::optional<DaysBody> parse_days_body(std::string_view body) {
  std::size_t i = 0;
  const auto ws = [&] {
    while (i < body.size() &&
           (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r'))
      ++i;
  };
  const auto take = [&](std::string_view token) {
    ws();
    if (body.substr(i, token.size()) != token) return false;
    i += token.size();
    return true;
  };
  if (!take("{") || !take("\"days\"") || !take(":")) return std::nullopt;
  ws();
  DaysBody out;
  if (!take("null")) {
    std::int64_t days = 0;
    std::size_t digits = 0;
    for (; i < body.size() && body[i] >= '0' && body[i] <= '9' && digits < 6; ++i, ++digits)
      days = days * 10 + (body[i] - '0');
    if (digits == 0 || digits > 5 || days < 1 || days > 36500) return std::nullopt;
    out.days = days;
  }
  if (!take("}")) return std::nullopt;
  ws();
  if (i != body.size()) return std::nullopt;
  return out;
}

}  // namespace salon::archive
