// SPDX-License-Identifier: GPL-3.0-or-later
// Pure (unit-tested, fuzzed): an archive row as the journal's spool keeps it, and back.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "store.hpp"

namespace salon::archive {

std::string encode_row(const Row& row);
std::optional<Row> decode_row(std::string_view bytes);  // nullopt: damaged

}  // namespace salon::archive
