// SPDX-License-Identifier: GPL-3.0-or-later
// The journal's spool decoder (decode_spool, torn and corrupt stretches included): any file
// contents give whole records, bad stretches in order, and where they end, never more than was
// there; what decoded re-encodes to records that decode to the same messages. Every part is
// also fed to the archive's row decoder: a row that decodes re-encodes to one that decodes to
// the same bytes (decoding normalises: an unknown kind reads as a message).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "journal/spool.hpp"
#include "row_codec.hpp"

namespace {

using salon::journal::SpooledMessage;

void check_roundtrip(const std::vector<SpooledMessage>& messages) {
  std::string once;
  for (const auto& m : messages)
    once += salon::journal::encode_record(m);
  const auto again = salon::journal::decode_spool(once, true);
  if (again.end != once.size() || !again.corrupt.empty() || again.torn ||
      again.messages != messages)
    std::abort();
}

void check_rows(const std::vector<SpooledMessage>& messages) {
  for (const auto& m : messages)
    for (const auto& part : m.parts) {
      const auto row = salon::archive::decode_row(part.row);
      if (!row) continue;
      const std::string once = salon::archive::encode_row(*row);
      const auto again = salon::archive::decode_row(once);
      if (!again || salon::archive::encode_row(*again) != once) std::abort();
    }
}

// Bad stretches lie in order inside [0, end), and nothing is reported past the data.
void check_chunk(const salon::journal::SpoolChunk& c, std::size_t size) {
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
    const auto chunk = salon::journal::decode_spool(in, last);
    check_chunk(chunk, size);
    check_roundtrip(chunk.messages);
    check_rows(chunk.messages);
  }
  return 0;
}
