// SPDX-License-Identifier: GPL-3.0-or-later
// The spool decoder: any file contents give whole records and where they end, never more
// than was there. Decoding normalises (an unknown kind reads as a message), so the check is
// that what decoded, re-encoded, decodes to the same records.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "spool.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::size_t consumed = 0;
  auto rows = salon::archive::decode_records(in, consumed);
  if (consumed > size) std::abort();
  std::string once;
  for (const auto& r : rows)
    once += salon::archive::encode_record(r);
  std::size_t consumed_again = 0;
  auto again = salon::archive::decode_records(once, consumed_again);
  std::string twice;
  for (const auto& r : again)
    twice += salon::archive::encode_record(r);
  if (consumed_again != once.size() || twice != once) std::abort();
  return 0;
}
