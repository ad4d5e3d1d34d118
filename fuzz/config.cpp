// SPDX-License-Identifier: GPL-3.0-or-later
// The config reader (toml++ then salon's schema checks): any text is a config or an error
// with a message, never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string toml(reinterpret_cast<const char*>(data), size);
  auto r = salon::config::load_string(toml, "fuzz.toml");
  if (!r.config && !r.error) std::abort();
  if (r.error) (void)r.error->str();
  return 0;
}
