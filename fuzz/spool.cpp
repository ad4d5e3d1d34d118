// SPDX-License-Identifier: GPL-3.0-or-later
// The spool decoder (decode_spool, torn and corrupt stretches included): any file contents give
// whole records, bad stretches in order, and where they end, never more than was there.
// Decoding normalises (an unknown kind reads as a message), so the check is that what decoded,
// re-encoded, decodes to the same records.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "spool.hpp"

namespace {

// The decoded rows, re-encoded, decode to themselves with nothing left over or reported.
void check_roundtrip(const std::vector<salon::archive::Row>& rows) {
  std::string once;
  for (const auto& r : rows)
    once += salon::archive::encode_record(r);
  const auto again = salon::archive::decode_spool(once, true);
  std::string twice;
  for (const auto& r : again.rows)
    twice += salon::archive::encode_record(r);
  if (again.end != once.size() || !again.corrupt.empty() || again.torn || twice != once)
    std::abort();
}

// Bad stretches lie in order inside [0, end), and nothing is reported past the data.
void check_chunk(const salon::archive::SpoolChunk& c, std::size_t size) {
  if (c.end > size) std::abort();
  std::size_t last_end = 0;
  for (const auto& s : c.corrupt) {
    if (s.size == 0 || s.offset < last_end || s.offset + s.size > c.end) std::abort();
    last_end = s.offset + s.size;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  for (const bool last : {false, true}) {
    const auto chunk = salon::archive::decode_spool(in, last);
    check_chunk(chunk, size);
    check_roundtrip(chunk.rows);
  }
  return 0;
}
