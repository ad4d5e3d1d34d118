// SPDX-License-Identifier: GPL-3.0-or-later
// XEP-0082 date-times, the one parser and formatter for all of salon: MAM form fields
// (start/end), <delay stamp/>, history `since` on join. The archive keeps microseconds
// (PostgreSQL timestamptz), so stamps are microseconds since the Unix epoch, UTC.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace salon {

// CCYY-MM-DDThh:mm:ss[.s+](Z|(+|-)hh:mm); nullopt when malformed or out of range (a field,
// or the instant outside the years 0001-9999 UTC). Fractions beyond microseconds are
// truncated.
std::optional<std::int64_t> parse_stamp(std::string_view text);
// 2026-11-28T12:00:00.123456Z (always six fraction digits: PostgreSQL parses it exactly, and
// clients sort stamps of the same second correctly).
std::string format_stamp(std::int64_t epoch_us);

}  // namespace salon
