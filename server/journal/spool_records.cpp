// SPDX-License-Identifier: GPL-3.0-or-later
// The spool's record format (spool.hpp): encoding, and decoding that tells a record torn by a
// crash (only ever the last one) from bytes that are not a record at all.
#include <algorithm>
#include <charconv>
#include <optional>
#include <string>

#include "journal/netstring.hpp"
#include "journal/spool.hpp"

namespace salon::journal {
namespace {

// A length line holds at most this many digits (kMaxRecord has 8).
constexpr std::size_t kMaxDigits = 20;

// A payload is the spool time and one or more (table, row) pairs of netstrings, nothing else.
std::optional<SpooledMessage> decode_message(std::string_view payload) {
  SpooledMessage m;
  std::size_t pos = 0;
  std::string at;
  if (!get_netstring(payload, pos, at)) return std::nullopt;
  const auto [p, ec] = std::from_chars(at.data(), at.data() + at.size(), m.at_us);
  if (at.empty() || ec != std::errc() || p != at.data() + at.size()) return std::nullopt;
  while (pos < payload.size()) {
    Part part;
    if (!get_netstring(payload, pos, part.table) || part.table.empty() ||
        !get_netstring(payload, pos, part.row))
      return std::nullopt;
    m.parts.push_back(std::move(part));
  }
  if (m.parts.empty()) return std::nullopt;
  return m;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

enum class Frame {
  whole,       // a record: `row` and `next` are set
  incomplete,  // could be the start of a record that goes on past the data
  bad,         // cannot be a record: a bad length line, too long, no terminator, bad payload
};

Frame frame_at(std::string_view data, std::size_t pos, std::size_t& next,
               std::optional<SpooledMessage>& message) {
  const std::string_view head = data.substr(pos, kMaxDigits + 1);
  const auto nl = head.find('\n');
  if (nl == std::string_view::npos) {
    const bool digits = std::all_of(head.begin(), head.end(), is_digit);
    return digits && head.size() <= kMaxDigits ? Frame::incomplete : Frame::bad;
  }
  std::size_t n = 0;
  const auto [p, ec] = std::from_chars(head.data(), head.data() + nl, n);
  if (nl == 0 || ec != std::errc() || p != head.data() + nl || n > kMaxRecord) return Frame::bad;
  const std::size_t start = pos + nl + 1;
  if (start + n + 1 > data.size()) return Frame::incomplete;
  if (data[start + n] != '\n') return Frame::bad;
  message = decode_message(data.substr(start, n));
  if (!message) return Frame::bad;
  next = start + n + 1;
  return Frame::whole;
}

// The first place from `pos` on where a record starts (or, with `incomplete_ok`, may start and
// go on past the data); data.size() if none. Every digit is a candidate: a record appended
// after a torn one starts right behind its last byte, not after a newline.
std::size_t resync(std::string_view data, std::size_t pos, bool incomplete_ok) {
  for (std::size_t q = pos; q < data.size(); ++q) {
    if (!is_digit(data[q])) continue;
    std::size_t next = 0;
    std::optional<SpooledMessage> message;
    const Frame f = frame_at(data, q, next, message);
    if (f == Frame::whole || (f == Frame::incomplete && incomplete_ok)) return q;
  }
  return data.size();
}

}  // namespace

std::string encode_record(const SpooledMessage& message) {
  std::string p;
  put_netstring(p, std::to_string(message.at_us));
  for (const Part& part : message.parts) {
    put_netstring(p, part.table);
    put_netstring(p, part.row);
  }
  return std::to_string(p.size()) + "\n" + p + "\n";
}

// Searching for the next record only ever happens after a bad stretch, or for a last record
// that is incomplete: inside a healthy file a record's payload is never searched, so a message
// whose body quotes a spool record cannot be mistaken for one.
SpoolChunk decode_spool(std::string_view data, bool last, std::size_t max_messages) {
  SpoolChunk out;
  std::size_t pos = 0;
  while (pos < data.size() && out.messages.size() < max_messages) {
    std::size_t next = 0;
    std::optional<SpooledMessage> message;
    const Frame f = frame_at(data, pos, next, message);
    if (f == Frame::whole) {
      out.messages.push_back(std::move(*message));
      out.end = pos = next;
      continue;
    }
    if (f == Frame::incomplete && !last) break;  // the next chunk holds the rest
    // An incomplete record at the very end is torn, unless whole records follow it (a spool
    // appended to after a crash by salond before 2026-12): then it is a bad stretch too.
    const std::size_t q = resync(data, pos + 1, f == Frame::bad && !last);
    if (f == Frame::incomplete && q == data.size()) {
      out.torn = true;
      break;
    }
    out.corrupt.push_back({pos, q - pos});
    out.end = pos = q;
  }
  return out;
}

std::vector<SpooledMessage> decode_records(std::string_view data, std::size_t& consumed,
                                           std::size_t max_messages) {
  SpoolChunk c = decode_spool(data, false, max_messages);
  consumed = c.end;
  return std::move(c.messages);
}

}  // namespace salon::journal
