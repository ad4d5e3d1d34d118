// SPDX-License-Identifier: GPL-3.0-or-later
// The link's first line of defence: splits the byte stream from the XMPP server into top-level
// stanzas and holds each one back until it is complete, so gloox only ever parses stanzas that
// are within the limits. A stanza over a limit (bytes, nesting depth, attributes per element)
// never reaches gloox's parser, our Element conversion or a handler: its bytes are dropped as
// they arrive (memory stays bounded by max_bytes) and only its top-level start tag is kept, so
// that the sender can be told why (policy-violation).
//
// Why before gloox: gloox builds the whole tree of a stanza, and freeing or converting a tree
// nested 30,000 deep recursed off the end of the stack (one ~210 KB message crashed salond).
// This scanner is a flat state machine: nothing in it recurses.
//
// It tracks structure only (tags, quotes, comments, PIs, CDATA); well-formedness, entities and
// namespaces stay gloox's job. gloox-free, so it can be fuzzed and tested on its own.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/element.hpp"

namespace salon::xmpp {

struct StanzaLimits {
  std::size_t max_bytes = std::size_t{512} * 1024;  // one stanza, serialised as received
  std::size_t max_depth = 32;       // elements nested in a stanza, the stanza itself is 1
  std::size_t max_attributes = 64;  // attributes on any one element
};

enum class Violation { bytes, depth, attributes };
std::string_view to_string(Violation v);

struct RefusedStanza {
  Violation why = Violation::bytes;
  // The stanza's top-level element with its attributes and no content, when its start tag was
  // within the limits (a start tag alone over max_bytes leaves nothing to answer to).
  std::optional<Element> head;
};

class StanzaFramer {
public:
  explicit StanzaFramer(StanzaLimits limits = {}) : limits_(limits) {}

  // Scans `in`. Appends to `out` what may go to the XML parser: everything outside stanzas
  // (the stream header, whitespace, the stream's end) as it comes, and each stanza once it is
  // complete and within the limits. Appends one entry to `refused` per stanza over a limit.
  void feed(std::string_view in, std::string& out, std::vector<RefusedStanza>& refused);

  // A new stream (after a reconnect): forget any partial stanza.
  void reset();
  void set_limits(StanzaLimits limits) { limits_ = limits; }
  [[nodiscard]] const StanzaLimits& limits() const { return limits_; }
  // Bytes of the stanza being received that are held back (0 between stanzas).
  [[nodiscard]] std::size_t held_bytes() const { return stanza_.size(); }

private:
  enum class State {
    text,        // character data (or whitespace between stanzas)
    lt,          // just after '<'
    start_tag,   // inside <name ...>, outside quotes
    attr_value,  // inside a quoted attribute value
    end_tag,     // inside </name>
    pi,          // inside <? ... ?>
    bang,        // after "<!": a comment, CDATA or declaration, not yet known
    comment,     // inside <!-- ... -->
    cdata,       // inside <![CDATA[ ... ]]>
    decl,        // inside <!...> (DOCTYPE and the like: gloox refuses them)
  };

  void step(char c, std::string& out, std::vector<RefusedStanza>& refused);
  void keep(char c, std::string& out);
  void begin_stanza();
  void open_element();
  void close_element(std::string& out, std::vector<RefusedStanza>& refused);
  void finish_stanza(std::string& out, std::vector<RefusedStanza>& refused);
  void violate(Violation v);
  void capture_head();

  StanzaLimits limits_;
  State state_ = State::text;
  char quote_ = 0;
  std::size_t open_ = 0;    // open elements, the stream's own included
  bool in_stanza_ = false;  // between a stanza's '<' and its end
  bool self_closing_ = false;
  std::size_t attributes_ = 0;    // '=' seen in the current start tag
  std::string tail_;              // last bytes of a comment/PI/CDATA/<! (to find its end)
  std::string stanza_;            // the stanza so far, while within the limits
  std::size_t stanza_bytes_ = 0;  // all of its bytes, kept or not
  std::optional<Violation> violation_;
  std::optional<Element> head_;
  bool head_done_ = false;
};

}  // namespace salon::xmpp
