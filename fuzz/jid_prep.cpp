// SPDX-License-Identifier: GPL-3.0-or-later
// JID preparation (gloox stringprep): any bytes are a JID or nullopt, never a crash, and a
// prepared JID's text parses to the same JID (rooms and affiliations are keyed by it).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/jid.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view s(reinterpret_cast<const char*>(data), size);
  (void)salon::Jid::nodeprep(s);
  (void)salon::Jid::resourceprep(s);
  auto j = salon::Jid::parse(s);
  if (!j) return 0;
  auto again = salon::Jid::parse(j->str());
  if (!again || again->str() != j->str()) std::abort();
  return 0;
}
