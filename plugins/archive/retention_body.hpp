// SPDX-License-Identifier: GPL-3.0-or-later
// The body of PUT /api/v1/projects/{id}/retention (retention.hpp), on its own: pure, and
// compiled alone into fuzz/http_request.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace salon::archive {

// The "days" of a PUT body: a positive integer, or null (forever). nullopt when the body is
// not {"days": N|null}.
struct DaysBody {
  std::optional<std::int64_t> days;  // empty = forever
};
std::optional<DaysBody> parse_days_body(std::string_view body);

}  // namespace salon::archive
