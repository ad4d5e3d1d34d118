// SPDX-License-Identifier: GPL-3.0-or-later
// A small, strict XML parser for salon's own serialised elements: presences persisted by the
// occupant write-behind (restored at start-up) and stanzas written in tests. It accepts what
// Element::xml() produces plus ordinary whitespace, comments and the XML declaration; it is not
// a general parser (no DTD, no CDATA, no namespace prefixes resolution).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "core/element.hpp"

namespace salon {

// Elements nested deeper than this below the root do not parse. The link refuses stanzas
// nested deeper than its configured limit, which may not exceed this: what was accepted and
// archived must parse again.
inline constexpr std::size_t kMaxParseDepth = 64;

// nullopt when the text is not one well-formed element.
std::optional<Element> parse_xml(std::string_view text);

}  // namespace salon
