// SPDX-License-Identifier: GPL-3.0-or-later
// The spool's record format (spool.hpp): encoding, and decoding that tells a record torn by a
// crash (only ever the last one) from bytes that are not a record at all.
#include <algorithm>
#include <charconv>
#include <optional>
#include <string>

#include "spool.hpp"

namespace salon::archive {
namespace {

// A length line holds at most this many digits (kMaxRecord has 8).
constexpr std::size_t kMaxDigits = 20;

void netstring(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
  out += ',';
}

// Reads one netstring at `pos`; false when the data is short or malformed.
bool read_netstring(std::string_view data, std::size_t& pos, std::string& out) {
  const auto colon = data.find(':', pos);
  if (colon == std::string_view::npos) return false;
  std::size_t n = 0;
  const auto [p, ec] = std::from_chars(data.data() + pos, data.data() + colon, n);
  if (ec != std::errc() || p != data.data() + colon) return false;
  if (n > data.size() || colon + 1 + n + 1 > data.size() || data[colon + 1 + n] != ',')
    return false;
  out.assign(data.substr(colon + 1, n));
  pos = colon + 1 + n + 1;
  return true;
}

std::optional<Row> decode_row(std::string_view payload) {
  std::string f[12];
  std::size_t pos = 0;
  for (auto& s : f)
    if (!read_netstring(payload, pos, s)) return std::nullopt;
  if (pos != payload.size()) return std::nullopt;
  Row r;
  try {
    r.room_id = std::stoll(f[0]);
    r.ts_us = std::stoll(f[2]);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  r.stanza_id = f[1];
  r.kind = f[3] == "subject"      ? Kind::subject
           : f[3] == "correction" ? Kind::correction
           : f[3] == "retraction" ? Kind::retraction
                                  : Kind::message;
  r.nick = f[4];
  r.sender_jid = f[5];
  r.occupant_id = f[6];
  r.msg_id = f[7];
  r.has_body = f[8] == "1";
  r.body = f[9];
  r.stanza = f[10];
  r.replaces = f[11];
  return r;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

enum class Frame {
  whole,       // a record: `row` and `next` are set
  incomplete,  // could be the start of a record that goes on past the data
  bad,         // cannot be a record: a bad length line, too long, no terminator, bad payload
};

Frame frame_at(std::string_view data, std::size_t pos, std::size_t& next, std::optional<Row>& row) {
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
  row = decode_row(data.substr(start, n));
  if (!row) return Frame::bad;
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
    std::optional<Row> row;
    const Frame f = frame_at(data, q, next, row);
    if (f == Frame::whole || (f == Frame::incomplete && incomplete_ok)) return q;
  }
  return data.size();
}

}  // namespace

std::string encode_record(const Row& r) {
  std::string p;
  netstring(p, std::to_string(r.room_id));
  netstring(p, r.stanza_id);
  netstring(p, std::to_string(r.ts_us));
  netstring(p, to_string(r.kind));
  netstring(p, r.nick);
  netstring(p, r.sender_jid);
  netstring(p, r.occupant_id);
  netstring(p, r.msg_id);
  netstring(p, r.has_body ? "1" : "0");
  netstring(p, r.body);
  netstring(p, r.stanza);
  netstring(p, r.replaces);
  return std::to_string(p.size()) + "\n" + p + "\n";
}

// Searching for the next record only ever happens after a bad stretch, or for a last record
// that is incomplete: inside a healthy file a record's payload is never searched, so a message
// whose body quotes a spool record cannot be mistaken for one.
SpoolChunk decode_spool(std::string_view data, bool last, std::size_t max_rows) {
  SpoolChunk out;
  std::size_t pos = 0;
  while (pos < data.size() && out.rows.size() < max_rows) {
    std::size_t next = 0;
    std::optional<Row> row;
    const Frame f = frame_at(data, pos, next, row);
    if (f == Frame::whole) {
      out.rows.push_back(std::move(*row));
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

std::vector<Row> decode_records(std::string_view data, std::size_t& consumed,
                                std::size_t max_rows) {
  SpoolChunk c = decode_spool(data, false, max_rows);
  consumed = c.end;
  return std::move(c.rows);
}

}  // namespace salon::archive
