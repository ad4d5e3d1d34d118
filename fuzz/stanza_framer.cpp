// SPDX-License-Identifier: GPL-3.0-or-later
// The link's intake: bytes from the XMPP server -> StanzaFramer (limits) -> parse_xml of what
// passed, as the link hands stanzas on. The first byte picks the chunk size, so that stanzas
// split across reads are covered; held bytes never exceed max_bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/xml_parse.hpp"
#include "xmpp/framer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::size_t chunk = data[0] % 64 + 1;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  salon::xmpp::StanzaLimits limits;
  limits.max_bytes = 4096;
  limits.max_depth = 8;
  limits.max_attributes = 8;
  salon::xmpp::StanzaFramer framer(limits);
  std::string out;
  std::vector<salon::xmpp::RefusedStanza> refused;
  for (std::size_t at = 0; at < in.size(); at += chunk) {
    framer.feed(in.substr(at, chunk), out, refused);
    if (framer.held_bytes() > limits.max_bytes) std::abort();
  }
  (void)salon::parse_xml(out);
  for (const auto& r : refused) {
    if (r.head) (void)r.head->xml();
  }
  return 0;
}
