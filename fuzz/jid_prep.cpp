// SPDX-License-Identifier: GPL-3.0-or-later
// JID preparation (gloox stringprep): any bytes are a JID or nullopt, never a crash.
// Not checked yet: a prepared JID parsing to itself ("omR.." gives a JID whose text is
// prepared differently again; docs/FUZZING.md, open finding).
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
  (void)salon::Jid::parse(j->str());
  return 0;
}
