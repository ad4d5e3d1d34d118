// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/stamp.hpp"

#include <fmt/format.h>

namespace salon {
namespace {

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian, no time zone
// database needed).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
}

bool is_leap(std::int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

// Reads exactly `n` digits at `pos`.
bool digits(std::string_view s, std::size_t& pos, std::size_t n, unsigned& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<unsigned>(c - '0');
  }
  pos += n;
  return true;
}

bool expect(std::string_view s, std::size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

std::optional<std::int64_t> parse_stamp(std::string_view s) {
  std::size_t p = 0;
  unsigned year = 0, mon = 0, day = 0, hh = 0, mm = 0, ss = 0;
  if (!digits(s, p, 4, year) || !expect(s, p, '-') || !digits(s, p, 2, mon) || !expect(s, p, '-') ||
      !digits(s, p, 2, day) || !expect(s, p, 'T') || !digits(s, p, 2, hh) || !expect(s, p, ':') ||
      !digits(s, p, 2, mm) || !expect(s, p, ':') || !digits(s, p, 2, ss))
    return std::nullopt;
  if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) || hh > 23 || mm > 59 ||
      ss > 59)
    return std::nullopt;
  std::int64_t micros = 0;
  if (p < s.size() && s[p] == '.') {
    ++p;
    std::size_t n = 0;
    for (; p < s.size() && s[p] >= '0' && s[p] <= '9'; ++p, ++n)
      if (n < 6) micros = micros * 10 + (s[p] - '0');
    if (n == 0) return std::nullopt;
    for (; n < 6; ++n)
      micros *= 10;
  }
  std::int64_t offset_s = 0;
  if (p < s.size() && s[p] == 'Z') {
    ++p;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    const int sign = s[p] == '-' ? -1 : 1;
    ++p;
    unsigned oh = 0, om = 0;
    if (!digits(s, p, 2, oh) || !expect(s, p, ':') || !digits(s, p, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_s = sign * static_cast<std::int64_t>(oh * 3600 + om * 60);
  } else {
    return std::nullopt;  // XEP-0082 DateTime requires a zone
  }
  if (p != s.size()) return std::nullopt;
  const std::int64_t secs =
      days_from_civil(year, mon, day) * 86400 + hh * 3600 + mm * 60 + ss - offset_s;
  // Years 0001-9999 in UTC only: what format_stamp writes with four digits and PostgreSQL
  // reads (it has no year 0). An offset must not carry 0000-01-01T00:30:00+01:00 out of them.
  static const std::int64_t first = days_from_civil(1, 1, 1) * 86400;
  static const std::int64_t end = days_from_civil(10000, 1, 1) * 86400;
  if (secs < first || secs >= end) return std::nullopt;
  return secs * 1000000 + micros;
}

std::string format_stamp(std::int64_t us) {
  std::int64_t secs = us / 1000000;
  std::int64_t frac = us % 1000000;
  if (frac < 0) {
    frac += 1000000;
    --secs;
  }
  std::int64_t days = secs / 86400;
  std::int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", y, m, d, rem / 3600,
                     rem / 60 % 60, rem % 60, frac);
}

}  // namespace salon
