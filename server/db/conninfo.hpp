// SPDX-License-Identifier: GPL-3.0-or-later
// libpq connection strings: both forms ("host=... dbname=..." and postgresql:// URIs) are parsed
// by libpq itself (PQconninfoParse), so what we add or read means exactly what libpq will use.
// Values may hold a password: never log a conninfo.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace salon::db {

using ConninfoOptions = std::vector<std::pair<std::string, std::string>>;

// Returns `conninfo` in keyword form with `overrides` set (replacing any value it had).
// Throws std::invalid_argument with libpq's message when conninfo does not parse.
std::string conninfo_with(std::string_view conninfo, const ConninfoOptions& overrides);
// Same, but sets each option only where conninfo leaves it unset.
std::string conninfo_with_defaults(std::string_view conninfo, const ConninfoOptions& defaults);
// The value conninfo sets for `keyword`, if any. Throws std::invalid_argument like above.
std::optional<std::string> conninfo_get(std::string_view conninfo, std::string_view keyword);

}  // namespace salon::db
