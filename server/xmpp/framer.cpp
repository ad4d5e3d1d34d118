// SPDX-License-Identifier: GPL-3.0-or-later
#include "xmpp/framer.hpp"

#include <cstring>

#include "core/xml_parse.hpp"

namespace salon::xmpp {

std::string_view to_string(Violation v) {
  switch (v) {
    case Violation::bytes: return "bytes";
    case Violation::depth: return "depth";
    case Violation::attributes: return "attributes";
  }
  return "bytes";
}

namespace {
// A stanza held for 512 KiB should not keep that much memory once it has gone.
constexpr std::size_t kKeepCapacity = std::size_t{64} * 1024;

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

void StanzaFramer::reset() {
  state_ = State::text;
  quote_ = 0;
  open_ = 0;
  in_stanza_ = false;
  self_closing_ = false;
  attributes_ = 0;
  tail_.clear();
  std::string().swap(stanza_);
  stanza_bytes_ = 0;
  violation_.reset();
  head_.reset();
  head_done_ = false;
}

void StanzaFramer::feed(std::string_view in, std::string& out,
                        std::vector<RefusedStanza>& refused) {
  std::size_t i = 0;
  while (i < in.size()) {
    // Fast path: character data runs up to the next '<' (most of a message's bytes).
    if (state_ == State::text) {
      const void* lt = std::memchr(in.data() + i, '<', in.size() - i);
      const std::size_t end =
          lt ? static_cast<std::size_t>(static_cast<const char*>(lt) - in.data()) : in.size();
      if (end > i) {
        const std::string_view run = in.substr(i, end - i);
        if (!in_stanza_) {
          out += run;
        } else if (!violation_ && stanza_bytes_ + run.size() <= limits_.max_bytes) {
          stanza_ += run;
          stanza_bytes_ += run.size();
        } else {
          for (char c : run)
            keep(c, out);
        }
        i = end;
        continue;
      }
    }
    step(in[i++], out, refused);
  }
}

void StanzaFramer::keep(char c, std::string& out) {
  if (!in_stanza_) {
    out.push_back(c);
    return;
  }
  ++stanza_bytes_;
  if (stanza_bytes_ > limits_.max_bytes) {
    if (!violation_) violation_ = Violation::bytes;
    if (!stanza_.empty()) std::string().swap(stanza_);
    return;
  }
  // Over a limit, bytes are only kept until the head is known (to address the error).
  if (violation_ && head_done_) return;
  stanza_.push_back(c);
}

void StanzaFramer::violate(Violation v) {
  if (!violation_) violation_ = v;
  if (head_done_) std::string().swap(stanza_);
}

void StanzaFramer::begin_stanza() {
  in_stanza_ = true;
  stanza_bytes_ = 0;
  violation_.reset();
  head_.reset();
  head_done_ = false;
}

void StanzaFramer::open_element() {
  ++open_;
  attributes_ = 0;
  self_closing_ = false;
  if (in_stanza_ && open_ - 1 > limits_.max_depth) violate(Violation::depth);
}

void StanzaFramer::close_element(std::string& out, std::vector<RefusedStanza>& refused) {
  if (open_ > 0) --open_;
  if (in_stanza_ && open_ == 1) finish_stanza(out, refused);
}

// The stanza's start tag is complete: keep its addressing attributes as an empty element.
void StanzaFramer::capture_head() {
  head_done_ = true;
  if (stanza_bytes_ <= limits_.max_bytes && !stanza_.empty()) {
    // "<message ...>" -> "<message .../>", so that it parses on its own.
    const std::string_view start(stanza_);
    std::string tag(start.substr(0, start.size() - 1));
    if (!ends_with(stanza_, "/>")) tag += '/';
    tag += '>';
    if (auto e = parse_xml(tag)) {
      Element head(e->name());
      for (const char* key : {"xmlns", "from", "to", "id", "type"})
        if (e->has_attr(key)) head.set_attr(key, std::string(e->attr(key)));
      head_ = std::move(head);
    }
  }
  if (violation_) std::string().swap(stanza_);
}

void StanzaFramer::finish_stanza(std::string& out, std::vector<RefusedStanza>& refused) {
  if (violation_)
    refused.push_back(RefusedStanza{*violation_, std::move(head_)});
  else
    out += stanza_;
  stanza_.clear();
  if (stanza_.capacity() > kKeepCapacity) std::string().swap(stanza_);
  in_stanza_ = false;
  stanza_bytes_ = 0;
  violation_.reset();
  head_.reset();
  head_done_ = false;
}

void StanzaFramer::step(char c, std::string& out, std::vector<RefusedStanza>& refused) {
  switch (state_) {
    case State::text:
      if (c == '<') {
        state_ = State::lt;  // kept with the next byte, once we know what it opens
        return;
      }
      keep(c, out);
      return;
    case State::lt:
      if (c != '/' && c != '?' && c != '!' && open_ == 1 && !in_stanza_) begin_stanza();
      keep('<', out);
      keep(c, out);
      if (c == '/') {
        state_ = State::end_tag;
      } else if (c == '?') {
        state_ = State::pi;
        tail_.clear();
      } else if (c == '!') {
        state_ = State::bang;
        tail_.clear();
      } else {
        state_ = State::start_tag;
        open_element();
      }
      return;
    case State::start_tag:
      keep(c, out);
      if (c == '"' || c == '\'') {
        quote_ = c;
        state_ = State::attr_value;
      } else if (c == '>') {
        state_ = State::text;
        if (in_stanza_ && open_ == 2 && !head_done_) capture_head();
        if (self_closing_) close_element(out, refused);
      } else if (c == '=') {
        if (in_stanza_ && ++attributes_ > limits_.max_attributes) violate(Violation::attributes);
      }
      self_closing_ = c == '/';
      return;
    case State::attr_value:
      keep(c, out);
      if (c == quote_) state_ = State::start_tag;
      return;
    case State::end_tag:
      keep(c, out);
      if (c == '>') {
        state_ = State::text;
        close_element(out, refused);
      }
      return;
    case State::pi:
      keep(c, out);
      if (c == '>' && tail_ == "?") state_ = State::text;
      tail_.assign(1, c);
      return;
    case State::bang:
      keep(c, out);
      tail_.push_back(c);
      if (tail_ == "--") {
        state_ = State::comment;
        tail_.clear();
      } else if (tail_ == "[CDATA[") {
        state_ = State::cdata;
        tail_.clear();
      } else if (!std::string_view("--").starts_with(tail_) &&
                 !std::string_view("[CDATA[").starts_with(tail_)) {
        state_ = c == '>' ? State::text : State::decl;
      }
      return;
    case State::comment:
    case State::cdata: {
      keep(c, out);
      const char closer = state_ == State::comment ? '-' : ']';
      if (c == '>' && tail_.size() == 2 && tail_[0] == closer && tail_[1] == closer) {
        state_ = State::text;
        tail_.clear();
        return;
      }
      tail_.push_back(c);
      if (tail_.size() > 2) tail_.erase(0, 1);
      return;
    }
    case State::decl:
      keep(c, out);
      if (c == '>') state_ = State::text;
      return;
  }
}

}  // namespace salon::xmpp
