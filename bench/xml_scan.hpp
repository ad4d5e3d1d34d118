// SPDX-License-Identifier: GPL-3.0-or-later
// A minimal incremental scanner for an XMPP stream written by salond: it only finds stanza
// boundaries (complete elements at depth 1) and reads the top-level tag's attributes. It does
// no validation and no entity decoding beyond what the benchmark needs; salond's own output
// is well-formed XML, so a full parser would only cost time on the receiving side (the
// benchmark must read faster than salond writes, or it measures itself).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace salon::bench {

// One complete stanza, valid until the next call into the scanner.
struct Stanza {
  std::string_view raw;   // from '<' to the closing '>'
  std::string_view name;  // top-level element name, e.g. "message"
  std::string_view head;  // the start tag's attribute text

  // The raw (undecoded) value of a top-level attribute, empty when missing.
  [[nodiscard]] std::string_view attr(std::string_view key) const;
  [[nodiscard]] bool contains(std::string_view needle) const {
    return raw.find(needle) != std::string_view::npos;
  }
};

// The stream header's attributes (e.g. id, to).
struct StreamHeader {
  std::string name;
  std::string head;
  [[nodiscard]] std::string_view attr(std::string_view key) const;
};

class StanzaScanner {
public:
  enum class Event { need_more, stream_open, stanza, stream_close };

  // Space to read into (at least `min` bytes); call commit(n) after the read.
  std::span<char> prepare(std::size_t min = 64 * 1024);
  void commit(std::size_t n) { end_ += n; }

  // The next event from the buffered bytes. `stanza` is valid until the next next().
  Event next(Stanza& stanza);
  [[nodiscard]] const StreamHeader& header() const { return header_; }

private:
  // The end of the tag that starts at `lt` (one past '>'), or npos when incomplete.
  std::size_t tag_end(std::size_t lt) const;
  Stanza view(std::size_t end) const;

  std::vector<char> buf_ = std::vector<char>(1 << 20);
  std::size_t end_ = 0;  // one past the last buffered byte
  std::size_t pos_ = 0;  // scan position; bytes before it are consumed (at depth <= 1)
  // The open stanza (depth >= 2): where it starts, its name and its attribute text.
  std::size_t stanza_start_ = 0, name_len_ = 0, head_start_ = 0, head_len_ = 0;
  int depth_ = 0;
  StreamHeader header_;
};

// Attribute lookup in a start tag's attribute text (both quote styles).
std::string_view find_attr(std::string_view head, std::string_view key);

}  // namespace salon::bench
