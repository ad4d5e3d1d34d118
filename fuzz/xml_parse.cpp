// SPDX-License-Identifier: GPL-3.0-or-later
// core parse_xml: any bytes either parse to one element or give nullopt. What parses must
// serialise and parse again to the same text (the occupant write-behind relies on it).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/xml_parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto e = salon::parse_xml(text);
  if (!e) return 0;
  auto xml = e->xml();
  auto again = salon::parse_xml(xml);
  if (!again || again->xml() != xml) std::abort();
  return 0;
}
